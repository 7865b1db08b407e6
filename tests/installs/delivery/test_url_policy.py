"""Which endpoint URLs a plugin may register: public https only (loopback http in development)."""

from __future__ import annotations

import re
from ipaddress import ip_address

import pytest

from flint_contracts.limits import MAX_URL_LENGTH
from flint_installs.delivery.addresses import address_problem
from flint_installs.delivery.resolver import SystemResolver, check_endpoint_url
from flint_installs.delivery.url_policy import (
    URL_ADDRESS,
    URL_FRAGMENT,
    URL_HOST,
    URL_INVALID,
    URL_SCHEME,
    URL_TOO_LONG,
    URL_UNRESOLVABLE,
    URL_USERINFO,
    UrlRefused,
    parse_endpoint_url,
)
from tests.installs.delivery.resolvers import ScriptedResolver

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    ("url", "host", "port", "target", "host_header"),
    [
        ("https://hooks.example.com/flint", "hooks.example.com", 443, "/flint", "hooks.example.com"),
        ("https://Hooks.Example.com", "hooks.example.com", 443, "/", "hooks.example.com"),
        ("https://hooks.example.com:8443/a/b?tenant=7&x=%20", "hooks.example.com", 8443, "/a/b?tenant=7&x=%20",
         "hooks.example.com:8443"),
        ("https://93.184.215.14/hook", "93.184.215.14", 443, "/hook", "93.184.215.14"),
        ("https://[2606:4700::1111]:444/", "2606:4700::1111", 444, "/", "[2606:4700::1111]:444"),
        ("https://xn--bcher-kva.example/", "xn--bcher-kva.example", 443, "/", "xn--bcher-kva.example"),
    ],
)
def test_public_https_urls_are_accepted_and_split_for_the_sender(url, host, port, target, host_header):
    endpoint = parse_endpoint_url(url)
    assert (endpoint.scheme, endpoint.host, endpoint.port, endpoint.target) == ("https", host, port, target)
    assert endpoint.host_header == host_header


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("http://hooks.example.com/", URL_SCHEME, "must use https"),
        ("ftp://hooks.example.com/", URL_SCHEME, "not ftp"),
        ("file:///etc/passwd", URL_SCHEME, "not file"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", URL_SCHEME, "not gopher"),
        ("javascript:alert(1)", URL_SCHEME, "not javascript"),
        ("hooks.example.com/flint", URL_SCHEME, "no scheme"),
        ("https://user:pass@hooks.example.com/", URL_USERINFO, "user name or password"),
        ("https://hooks.example.com@169.254.169.254/", URL_USERINFO, "user name or password"),
        ("https://hooks.example.com/#frag", URL_FRAGMENT, "fragment"),
        ("https://hooks.example.com/#", URL_FRAGMENT, "fragment"),
        ("https://hooks.example.com/" + "a" * MAX_URL_LENGTH, URL_TOO_LONG, f"longer than {MAX_URL_LENGTH}"),
        ("", URL_INVALID, "empty"),
        ("https://hooks.example.com/a b", URL_INVALID, "visible ASCII"),
        ("https://bücher.example/", URL_INVALID, "xn--"),
        ("https://hooks.example.com/\x00", URL_INVALID, "visible ASCII"),
        ("https://[::1/", URL_INVALID, "cannot be parsed"),
        ("https://hooks.example.com:99999/", URL_INVALID, "port"),
        ("https://hooks.example.com:0/", URL_INVALID, "port"),
        ("https:///path-only", URL_HOST, "no host"),
        ("https://under_score-.example/", URL_HOST, "not a valid host name"),
        ("https://exa$mple.com/", URL_HOST, "not a valid host name"),
        ("https://2130706433/", URL_HOST, "unusual form"),
        ("https://0x7f.1/", URL_HOST, "unusual form"),
        ("https://127.1/", URL_HOST, "unusual form"),
        ("https://127.0.0.1/", URL_ADDRESS, "loopback"),
        ("https://[::1]/", URL_ADDRESS, "loopback"),
        ("https://10.0.0.8/", URL_ADDRESS, "private"),
        ("https://172.16.5.4/", URL_ADDRESS, "private"),
        ("https://192.168.1.1/", URL_ADDRESS, "private"),
        ("https://[fd12::1]/", URL_ADDRESS, "private"),
        ("https://169.254.169.254/latest/meta-data/", URL_ADDRESS, "metadata"),
        ("https://[fd00:ec2::254]/", URL_ADDRESS, "metadata"),
        ("https://169.254.10.10/", URL_ADDRESS, "link-local"),
        ("https://[fe80::1]/", URL_ADDRESS, "link-local"),
        ("https://224.0.0.251/", URL_ADDRESS, "multicast"),
        ("https://[ff02::1]/", URL_ADDRESS, "multicast"),
        ("https://0.0.0.0/", URL_ADDRESS, "unspecified"),
        ("https://[::]/", URL_ADDRESS, "unspecified"),
        ("https://100.64.0.1/", URL_ADDRESS, "carrier-grade NAT"),
        ("https://240.0.0.1/", URL_ADDRESS, "private"),
        ("https://192.0.2.10/", URL_ADDRESS, "private"),
        ("https://[::ffff:127.0.0.1]/", URL_ADDRESS, "loopback address (127.0.0.1 inside"),
        ("https://[::ffff:10.0.0.1]/", URL_ADDRESS, "private address (10.0.0.1 inside"),
        ("https://[::ffff:169.254.169.254]/", URL_ADDRESS, "metadata"),
        ("https://[64:ff9b::a9fe:a9fe]/", URL_ADDRESS, "metadata"),
        ("https://[2002:a00:1::1]/", URL_ADDRESS, "private address (10.0.0.1 inside"),
    ],
)
def test_unsafe_or_malformed_urls_are_refused_with_a_code_and_a_reason(url, code, words):
    with pytest.raises(UrlRefused, match=re.escape(words)) as refused:
        parse_endpoint_url(url)
    assert refused.value.code == code


def test_the_development_setting_allows_http_and_https_to_loopback_only():
    for url in ("http://127.0.0.1:8080/hook", "https://[::1]:8443/", "http://[::ffff:127.0.0.1]/"):
        assert parse_endpoint_url(url, allow_loopback=True).url == url
    for url, words in [("http://93.184.215.14/", "http:// is allowed only to a loopback"),
                       ("http://10.0.0.1/", "private"), ("https://169.254.169.254/", "metadata")]:
        with pytest.raises(UrlRefused, match=words) as refused:
            parse_endpoint_url(url, allow_loopback=True)
        assert refused.value.code == URL_ADDRESS


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_are_allowed_however_they_are_written(address):
    assert address_problem(ip_address(address)) is None


async def test_at_creation_every_address_the_host_resolves_to_must_be_public():
    # given a name that resolves to one public and one private address
    resolver = ScriptedResolver({"mixed.example.com": [[PUBLIC, "10.1.2.3"]], "fine.example.com": [[PUBLIC]],
                                 "inside.example.com": [["172.20.0.5"]], "local.example.com": [["127.0.0.1"]]})
    # then only the all-public one is accepted
    assert (await check_endpoint_url("https://fine.example.com/h", resolver)).host == "fine.example.com"
    for host, words in [("mixed", "private"), ("inside", "private"), ("local", "loopback")]:
        with pytest.raises(UrlRefused, match=words) as refused:
            await check_endpoint_url(f"https://{host}.example.com/h", resolver)
        assert refused.value.code == URL_ADDRESS


async def test_a_host_that_does_not_resolve_is_refused_at_creation():
    with pytest.raises(UrlRefused, match="does not resolve") as refused:
        await check_endpoint_url("https://nowhere.example.com/", ScriptedResolver({}))
    assert refused.value.code == URL_UNRESOLVABLE


async def test_the_system_resolver_sees_localhost_as_loopback():
    # the real getaddrinfo: "localhost" is refused unless the development setting is on
    with pytest.raises(UrlRefused, match="loopback"):
        await check_endpoint_url("https://localhost/hook", SystemResolver())
    endpoint = await check_endpoint_url("http://localhost:8080/hook", SystemResolver(), allow_loopback=True)
    assert endpoint.host == "localhost"
