"""serving.request_body: from HTTP headers and bytes to parsed JSON, as contract.md's edge-case table decides."""

import gzip
import io
import json
import math
import zlib

import pytest
from support import expected_detail, post, problem_of

from serving import request_body
from serving.request_body import BodyProblem


def refused(call, *args):
    with pytest.raises(BodyProblem) as caught:
        call(*args)
    return caught.value


# --- media type and charset -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "application/json;charset=UTF8",
        'application/json; charset="utf-8"',
        "application/json;\tcharset = utf-8",
    ],
)
def test_json_in_utf8_is_accepted(content_type):
    request_body.check_media_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/x-json", "application/problem+json", "application/json; charset=latin-1"],
)
def test_other_media_types_and_charsets_are_415_with_accept_post(content_type):
    problem = refused(request_body.check_media_type, content_type)
    assert problem.kind == "unsupported-media-type"
    assert problem.detail == expected_detail("unsupported-media-type")
    assert problem.headers == {"Accept-Post": "application/json"}


# --- Content-Encoding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, encoding", [(None, None), ("", None), ("identity", None), (" GZIP ", "gzip"), ("deflate", "deflate")]
)
def test_supported_encodings(header, encoding):
    assert request_body.check_encoding(header) == encoding


@pytest.mark.parametrize("header", ["br", "gzip, deflate", "compress", "x-gzip"])
def test_other_encodings_are_415_naming_the_supported_ones(header):
    problem = refused(request_body.check_encoding, header)
    assert (problem.kind, problem.detail) == ("unsupported-media-type", expected_detail("unsupported-encoding"))
    assert problem.headers == {"Accept-Encoding": "gzip, deflate"}


def test_gzip_members_and_zlib_deflate_inflate():
    text = b'{"instances": []}'
    assert request_body.decompress(gzip.compress(text), "gzip", 100) == text
    assert request_body.decompress(gzip.compress(text[:5]) + gzip.compress(text[5:]), "gzip", 100) == text
    assert request_body.decompress(zlib.compress(text), "deflate", 100) == text


@pytest.mark.parametrize("raw, encoding", [(b"not gzip", "gzip"), (b"not zlib", "deflate"), (b"\x1f\x8b\x08", "gzip")])
def test_a_body_that_does_not_decompress_is_a_400(raw, encoding):
    problem = refused(request_body.decompress, raw, encoding, 1000)
    assert (problem.kind, problem.detail) == ("malformed-json", expected_detail("bad-compression"))


def test_the_limit_applies_to_the_inflated_size():
    bomb = gzip.compress(b" " * 10001)
    assert len(bomb) < 100
    assert request_body.decompress(gzip.compress(b" " * 10000), "gzip", 10000) == b" " * 10000
    problem = refused(request_body.decompress, bomb, "gzip", 10000)
    assert (problem.kind, problem.detail) == ("body-too-large", expected_detail("body-too-large", maxBodyBytes=10000))


# --- reading the body within the limit --------------------------------------------------------------------------


class BrokenStream(object):
    def read(self, _size):
        raise OSError("the client went away")


def environ(data, terminated=False):
    return {"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": terminated}


def test_a_declared_length_over_the_limit_is_refused_unread():
    problem = refused(request_body.read_limited, {"wsgi.input": BrokenStream()}, 101, 100)
    assert problem.kind == "body-too-large"


def test_a_chunked_body_is_read_up_to_one_byte_past_the_limit():
    assert request_body.read_limited(environ(b"x" * 100, terminated=True), None, 100) == b"x" * 100
    assert refused(request_body.read_limited, environ(b"x" * 101, terminated=True), None, 100).kind == "body-too-large"


def test_a_body_cut_short_is_incomplete():
    for env, length in ((environ(b"x" * 10), 20), ({"wsgi.input": BrokenStream()}, 20)):
        problem = refused(request_body.read_limited, env, length, 100)
        assert (problem.kind, problem.detail) == ("malformed-json", expected_detail("incomplete-body"))


def test_no_length_on_an_unterminated_stream_reads_nothing():
    assert request_body.read_limited(environ(b"{}"), None, 100) == b""


def test_a_compressed_body_may_be_slightly_larger_than_the_limit():
    assert request_body.raw_limit(100, None) == 100
    assert request_body.raw_limit(100, "gzip") > 100


# --- text and JSON ----------------------------------------------------------------------------------------------


def test_a_byte_order_mark_is_dropped_once():
    assert request_body.decode_text(b"\xef\xbb\xbf{}") == "{}"
    twice = request_body.decode_text(b"\xef\xbb\xbf\xef\xbb\xbf{}")
    assert refused(request_body.parse_json, twice).kind == "malformed-json"


@pytest.mark.parametrize("raw", [b'{"a": "\xff"}', b"\xfe\xff\x00{\x00}", b"\xc3"])
def test_text_must_be_utf8(raw):
    problem = refused(request_body.decode_text, raw)
    assert (problem.kind, problem.detail) == ("malformed-json", expected_detail("malformed-json"))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal):
    problem = refused(request_body.parse_json, '{"instances": [{"length": %s}]}' % literal)
    assert (problem.kind, problem.detail) == ("malformed-json", expected_detail("malformed-json"))


def test_numbers_are_read_as_doubles_as_the_gateway_reads_them():
    parsed = request_body.parse_json('{"a": 3, "b": 1e400, "c": -%s}' % ("9" * 5000))
    assert parsed["a"] == 3.0 and type(parsed["a"]) is float
    assert parsed["b"] == math.inf and parsed["c"] == -math.inf


def test_duplicate_members_keep_the_last():
    assert request_body.parse_json('{"a": 1, "a": 2}') == {"a": 2.0}


def test_nesting_is_counted_outside_strings_only():
    assert request_body.nesting_depth('{"a": [[1]], "b": "[[[[{{{{", "c": "\\"[["}') == 3
    assert request_body.nesting_depth("[" * 40) == 40  # not valid JSON, still measured


def test_too_deep_is_its_own_400_whether_or_not_the_json_is_valid():
    for text in ("[" * 100000 + "]" * 100000, "[" * 33 + "1,"):
        problem = refused(request_body.parse_json, text)
        assert (problem.kind, problem.detail) == ("malformed-json", expected_detail("too-deep"))
    assert refused(request_body.parse_json, "[" * 32 + "1,").detail == expected_detail("malformed-json")


# --- through the app: the order the checks run in ---------------------------------------------------------------


def test_a_compressed_body_is_served(client, rows):
    body = gzip.compress(json.dumps({"instances": rows(2)}).encode("utf-8"))
    response = post(client, body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["predictions"]) == 2


def test_the_app_refuses_an_inflated_body_over_the_limit(client, classifier_dir):
    limit = json.loads((classifier_dir / "schema.json").read_text())["limits"]["maxBodyBytes"]
    body = gzip.compress(b'{"instances": [' + b" " * limit + b"]}")
    response = post(client, body, headers={"Content-Encoding": "gzip"})
    problem_of(response, "body-too-large", "body-too-large", maxBodyBytes=limit)


def test_media_type_is_checked_before_the_body(client):
    response = post(client, b"not json", content_type="text/plain")
    problem_of(response, "unsupported-media-type", "unsupported-media-type")
    assert response.headers["Accept-Post"] == "application/json"


def test_a_valid_but_deep_body_is_refused_as_too_deep_not_as_invalid(client, rows):
    # Python's parser reads 40 levels; the failed validation then notices the depth, as the gateway would.
    row = dict(rows(1)[0], length=json.loads("[" * 40 + "]" * 40))
    problem_of(post(client, {"instances": [row]}), "malformed-json", "too-deep")
