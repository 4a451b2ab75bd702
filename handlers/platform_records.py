"""Changes written to the national platform: registrations, 异地就医备案, 定点 network access, fund transfers."""
from .registry import HandlerContext, handler
from .reimbursement import known_insured


def _payload(context: HandlerContext, *fields: str) -> dict:
    payload = {"case_number": context.case_number, "agency_code": context.agency_code,
               "item_code": context.item_code, "id_number": context.applicant.get("id_number"),
               "name": context.applicant.get("name")}
    payload.update({field: str(context.data[field]) for field in fields if context.data.get(field) is not None})
    return payload


@handler("registration", "参保登记信息写入", changes_outside=True)
def registration(context: HandlerContext) -> dict:
    operation = context.param("operation")
    reference = context.platform.register(operation, _payload(context, "insured_kind", "change_fields",
                                                              "declared_base", "unit_name", "credit_code"))
    return {"registration_reference": reference}


@handler("filing", "异地就医备案", changes_outside=True)
def filing(context: HandlerContext) -> dict:
    context.require("destination_region")
    reference = context.platform.file_remote_care(_payload(context, "destination_region", "start_date",
                                                           "designated_hospital"))
    return {"filing_number": reference}


@handler("network_open", "开通联网结算", changes_outside=True)
def network_open(context: HandlerContext) -> dict:
    context.require("institution_name")
    reference = context.platform.open_network(_payload(context, "institution_name", "institution_kind",
                                                       "institution_address", "credit_code"))
    return {"network_code": reference}


@handler("fund_transfer", "转移基金划转", changes_outside=True)
def fund_transfer(context: HandlerContext) -> dict:
    record = known_insured(context)
    payload = _payload(context, "to_agency_code")
    payload["account_balance"] = record["account_balance"]
    return {"fund_transfer_reference": context.platform.transfer_funds(payload),
            "transferred_amount": record["account_balance"]}
