"""``stripe_sandbox.wire.decode`` inverts the official SDK's form encoder.

The SDK turns ``params`` into ``key[sub][0]=value`` pairs with ``stripe._encode._api_encode``
and ``urllib.parse.urlencode``; decoding that body must give back the same nested dicts and
lists. Keys never contain brackets (Stripe's parameter names do not), are never empty, and
are never all digits: ``{"0": "a"}`` and ``["a"]`` encode to the same bytes, so a decoder
without Stripe's schema cannot tell them apart (see the unit tests at the end).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from stripe_sandbox.errors import InvalidRequest
from stripe_sandbox.wire import Params, decode


def sdk_body(params: dict[str, Any]) -> str:
    """Exactly what the SDK puts on the wire for ``params`` (stripe/_api_requestor.py)."""
    return urlencode(list(_api_encode(params)))


# -- strategies ---------------------------------------------------------------------------------

keys = st.text(
    alphabet=st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
).filter(lambda k: not k.isdigit())
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # Empty dicts and lists send nothing at all, so they cannot come back.
    return st.one_of(
        st.lists(children, min_size=1, max_size=4),
        st.dictionaries(keys, children, min_size=1, max_size=4),
    )


nested = st.recursive(values, _containers, max_leaves=25)
top_level = st.dictionaries(keys, nested, max_size=6)


# -- the property --------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(top_level)
@example(
    {
        "items": [{"price": "price_1", "quantity": "2"}],
        "metadata": {"plan": "pro"},
        "expand": ["customer", "invoice_settings.default_payment_method"],
    }
)
@example({"a": [["x", "y"], ["z"]], "b": [{"c": [{"d": "e"}]}]})
@example({"k": ["v"] * 12})  # a[10] sorts after a[9], not after a[1]
@example({"sp ace": {"&=+%": "a&b=c+d%20"}, "é": {"ключ": "值"}})
@example({"blank": ""})
@example({"m": {"0\n": "v"}, "n": {"1\n": "w", "0": "x"}})
def test_decode_inverts_the_sdk_encoder(params: dict[str, Any]) -> None:
    assert decode(sdk_body(params)) == params


@settings(max_examples=200, deadline=None)
@given(top_level)
def test_params_reads_back_what_the_sdk_sent(params: dict[str, Any]) -> None:
    """Through :class:`Params`: nested dicts as ``dict()``, lists as ``list()``/``dicts()``."""
    decoded = Params(decode(sdk_body(params)))
    for key, value in params.items():
        if isinstance(value, str):
            assert decoded.str(key) == value
        elif isinstance(value, list):
            assert decoded.list(key) == value
        else:
            sub = decoded.dict(key)
            assert sub is not None and sub.data == value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=6)), max_size=6))
@example([("0", "")])
@example([("a[²]", "v")])
def test_any_body_decodes_or_raises_invalid_request(pairs: list[tuple[str, str]]) -> None:
    """Whatever a client sends, decode answers with data or Stripe's 400, never a crash."""
    error: InvalidRequest | None = None
    result: Any = None
    try:
        result = decode(urlencode(pairs))
    except InvalidRequest as exc:
        error = exc
    if error is not None:
        assert error.status == 400 and error.param is not None
    else:
        assert isinstance(result, dict)


# -- unit tests ------------------------------------------------------------------------------------


def test_stripes_documented_examples() -> None:
    body = (
        "items[0][price]=price_1&items[0][quantity]=2&items[1][price]=price_2"
        "&metadata[plan]=pro&metadata[seats]=5&expand[]=customer&expand[]=latest_invoice"
    )
    assert decode(body) == {
        "items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
        "metadata": {"plan": "pro", "seats": "5"},
        "expand": ["customer", "latest_invoice"],
    }


def test_expand_with_and_without_indices_agree() -> None:
    assert (
        decode("expand[]=a&expand[]=b")
        == decode("expand[0]=a&expand[1]=b")
        == {"expand": ["a", "b"]}
    )


def test_sdk_scalars_arrive_as_strings() -> None:
    body = sdk_body(
        {
            "amount": 2000,
            "confirm": True,
            "off_session": False,
            "skip": None,
            "recurring": {"interval_count": 3},
        }
    )
    assert decode(body) == {
        "amount": "2000",
        "confirm": "true",
        "off_session": "false",
        "recurring": {"interval_count": "3"},
    }


def test_empty_values_are_kept_to_unset_fields() -> None:
    assert decode("description=&metadata[plan]=") == {"description": "", "metadata": {"plan": ""}}
    assert Params(decode("metadata[plan]=")).metadata({"plan": "pro", "x": "1"}) == {"x": "1"}


def test_query_string_and_empty_body() -> None:
    assert decode("") == {}
    assert decode("limit=3&starting_after=cus_1") == {"limit": "3", "starting_after": "cus_1"}


def test_sparse_indices_stay_a_dict_that_params_lists_in_order() -> None:
    decoded = decode("items[1][price]=b&items[3][price]=d")
    assert decoded == {"items": {"1": {"price": "b"}, "3": {"price": "d"}}}
    assert Params(decoded).list("items") == [{"price": "b"}, {"price": "d"}]


@pytest.mark.parametrize(
    "key",
    [
        "a[b",
        "a]b",
        "[a]",
        "a[b]c",
        "a[[b]]",
        "a[b]]",
        "[]",
        "",
    ],
)
def test_bad_keys_raise_invalid_request(key: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        decode(urlencode([(key, "v")]))
    assert info.value.status == 400 and info.value.param == key


def test_top_level_digit_keys_stay_a_dict() -> None:
    """The root is always a dict of parameter names: ``0=x`` is an unknown parameter named
    ``0`` (Stripe: 400), not a list (the sandbox turned it into one and crashed, HTML 500)."""
    assert decode("0=x") == {"0": "x"}
    assert decode("0=x&1=y") == {"0": "x", "1": "y"}


def test_scalar_then_nested_under_the_same_name_is_invalid() -> None:
    with pytest.raises(InvalidRequest) as info:
        decode("metadata=x&metadata[plan]=pro")
    assert info.value.param == "metadata[plan]"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a[²]", {"a": {"²": "v"}}),
        ("a[①]", {"a": {"①": "v"}}),
        ("a[\u0660]", {"a": {"\u0660": "v"}}),  # ARABIC-INDIC DIGIT ZERO
        ("a[0][¹]", {"a": [{"¹": "v"}]}),
        ("a[0\n]", {"a": {"0\n": "v"}}),  # a regex "$" also matches before a final newline
    ],
)
def test_only_ascii_digits_are_list_indices(key: str, expected: dict[str, Any]) -> None:
    """``str.isdigit`` is true for ``²``, ``①`` and U+0660 (Arabic-Indic zero), but they
    are not indices: ``int("²")`` raises, so decode crashed (the sandbox answered such a
    body with an HTML 500), and ``a[\u0660]`` became a list; so did ``a[0\\n]``."""
    assert decode(urlencode([(key, "v")])) == expected
    assert sdk_body(expected) == urlencode([(key, "v")])


def test_all_digit_keys_are_indistinguishable_from_lists() -> None:
    """Why the property excludes all-digit keys: the SDK sends the same bytes for both."""
    assert sdk_body({"m": {"0": "a", "1": "b"}}) == sdk_body({"m": ["a", "b"]})
    assert decode(sdk_body({"m": {"0": "a"}})) == {"m": ["a"]}
