"""serving.contract: problem+json bodies built from contract.json's wording, in its member order, capped as it says."""

import os
import re

from support import CONTRACT, CONTRACT_PATH, expected_detail

from serving import contract


def test_the_service_reads_the_one_contract_file():
    served = os.path.join(os.path.dirname(contract.__file__), "contract.json")
    with open(served, "rb") as mine, open(CONTRACT_PATH, "rb") as shared:
        assert mine.read() == shared.read()
    assert contract.MAX_ERRORS == CONTRACT["maxErrors"] and contract.MAX_NESTING_DEPTH == CONTRACT["maxNestingDepth"]


def test_the_error_codes_are_the_ones_contract_md_lists():
    with open(os.path.join(os.path.dirname(CONTRACT_PATH), "contract.md"), encoding="utf-8") as fh:
        text = fh.read()
    listed = text.split("`code` values:", 1)[1].split(". Pointers", 1)[0]
    listed = re.sub(r"\([^)]*\)", "", listed)  # "`required` (missing feature or `instances`)"
    assert set(re.findall(r"`([a-z_]+)`", listed)) == contract.ERROR_CODES


def test_fill_replaces_each_placeholder_once_and_keeps_unknown_ones():
    assert contract.fill("{count} of {maxErrors}", count=3) == "3 of %d" % CONTRACT["maxErrors"]
    # A value that looks like a placeholder is not filled again (a category named "{count}", say).
    assert contract.fill("one of: {categories}; {count}", categories="{count}", count=2) == "one of: {count}; 2"
    assert contract.fill("{nobody}") == "{nobody}"


def test_a_problem_without_errors_carries_its_detail_and_request_id():
    body = contract.problem_body("not-found", contract.detail("not-found"), request_id="r-1")
    assert body == {
        "type": CONTRACT["typePrefix"] + "not-found",
        "title": CONTRACT["problems"]["not-found"]["title"],
        "status": 404,
        "detail": CONTRACT["details"]["not-found"],
        "requestId": "r-1",
    }
    assert list(body) == ["type", "title", "status", "detail", "requestId"]


def test_validation_details_count_the_errors():
    error = {"pointer": "/instances", "code": "required", "detail": "is required"}
    assert contract.problem_body("validation-error", errors=[error])["detail"] == expected_detail(
        "validation-error.one"
    )
    assert contract.problem_body("validation-error", errors=[error] * 2)["detail"] == expected_detail(
        "validation-error.many", count=2
    )


def test_errors_are_capped_and_the_rest_counted():
    cap = CONTRACT["maxErrors"]
    errors = [{"pointer": "/x%d" % i, "code": "unknown_field", "detail": "d"} for i in range(cap + 7)]
    body = contract.problem_body("validation-error", errors=errors, request_id="r")
    assert list(body) == ["type", "title", "status", "detail", "errors", "errorsOmitted", "requestId"]
    assert body["errors"] == errors[:cap] and body["errorsOmitted"] == 7
    assert body["detail"] == expected_detail("validation-error.capped", count=cap + 7)
    exactly = contract.problem_body("validation-error", errors=errors[:cap])
    assert "errorsOmitted" not in exactly and len(exactly["errors"]) == cap


def test_every_problem_has_its_status():
    for kind, spec in CONTRACT["problems"].items():
        assert contract.status_of(kind) == spec["status"]


def test_utf16_order_is_javascripts_default_sort():
    keys = ["\uff61", "\U0001f600", "b", "B", "\u00e9"]
    assert sorted(keys, key=contract.utf16_order) == ["B", "b", "\u00e9", "\U0001f600", "\uff61"]
