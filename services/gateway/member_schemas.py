"""Request models of the member and card endpoints (docs/api.md "Members", "Cards")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from services.gateway.schemas import Strict


class Consents(Strict):
    sms: StrictBool = False
    email: StrictBool = False
    wechat: StrictBool = False


class MemberFields(Strict):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    gender: Literal["", "male", "female", "other"] | None = None
    birthday: str | None = Field(default=None, max_length=10)
    email: str | None = Field(default=None, max_length=200)
    id_number: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=500)
    income_band: str | None = Field(default=None, max_length=32)
    occupation: str | None = Field(default=None, max_length=64)
    preferences: dict[str, str] | None = None
    home_store: str | None = Field(default=None, max_length=64)
    source: Literal["store", "call_center", "online", "import", "referral"] | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    custom_fields: dict[str, Any] | None = None
    consents: Consents | None = None


class MemberCreate(MemberFields):
    name: str = Field(max_length=200)
    phone: str = Field(max_length=32)
    referrer_member_no: str | None = Field(default=None, max_length=16)
    card_type: str | None = Field(default=None, max_length=32)


class MemberUpdate(MemberFields):
    pass


class Identify(Strict):
    card_no: str | None = Field(default=None, min_length=1, max_length=32)
    phone: str | None = Field(default=None, min_length=1, max_length=32)

    @model_validator(mode="after")
    def exactly_one(self) -> Identify:
        if (self.card_no is None) == (self.phone is None):
            raise ValueError("give exactly one of card_no or phone")
        return self


class CardAction(Strict):
    reason: str | None = Field(default=None, max_length=500)


class Replace(Strict):
    fee_payment: Literal["cash", "stored_value"] = "cash"


class CardIssue(Strict):
    card_type: str = Field(max_length=32)
    holders: list[str] = Field(default_factory=list, max_length=50)


class CardTypeBody(Strict):
    code: str = Field(max_length=32)
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["personal", "family", "group", "co_branded"]
    joining_fee: StrictInt = Field(default=0, ge=0)
    annual_fee: StrictInt = Field(default=0, ge=0)
    replacement_fee: StrictInt = Field(default=0, ge=0)
    validity_months: StrictInt = Field(default=0, ge=0, le=1200)
    max_holders: StrictInt = Field(default=1, ge=1, le=100)
    discount_bps: StrictInt = Field(default=0, ge=0, le=9999)
    home_scope: str | None = Field(
        default=None, max_length=64, description="org unit code narrowing the card"
    )
    is_default: StrictBool = False
    active: StrictBool = True
    max_balance: StrictInt = Field(default=0, ge=0)
    max_single_top_up: StrictInt = Field(default=0, ge=0)


class FieldDefinitionBody(Strict):
    label: str = Field(default="", max_length=100)
    type: Literal["string", "integer", "boolean", "date", "choice"]
    required: StrictBool = False
    choices: list[str] = Field(default_factory=list, max_length=200)
    active: StrictBool = True


class VisitCreate(Strict):
    channel: Literal["phone", "sms", "wechat", "email", "in_store", "other"]
    outcome: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=4000)


class FeedbackCreate(Strict):
    kind: Literal["complaint", "suggestion", "praise"]
    content: str = Field(min_length=1, max_length=4000)


class FeedbackHandle(Strict):
    resolution: str = Field(default="", max_length=4000)
