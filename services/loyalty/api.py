"""gRPC servicer of the loyalty service: protobuf <-> use cases."""

from __future__ import annotations

import grpc

from chainclub.common.v1 import common_pb2
from chainclub.loyalty.v1 import loyalty_pb2_grpc
from kit.grpcserver import service_info
from kit.runtime import Runtime


class LoyaltyApi(loyalty_pb2_grpc.LoyaltyServiceServicer):
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def GetServiceInfo(
        self, request: common_pb2.GetServiceInfoRequest, context: grpc.aio.ServicerContext
    ) -> common_pb2.ServiceInfo:
        return service_info(self.rt)
