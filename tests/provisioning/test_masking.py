"""Secret masking per platform, proven on a corpus of realistic configurations (see masking_corpus/README.md).

Each corpus file ``X`` has an oracle ``X.secrets``, written by hand from the vendor documentation, not by
the code under test: every value listed there must be gone from the masked text, the diff and the dry run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.diff import normalise, quiet_diff
from provisioning.drivers.base import MASK, Driver
from provisioning.drivers.cisco_ios import CiscoIosDriver, decode_type7
from provisioning.drivers.mikrotik_routeros import MikrotikRouterosDriver, join_continuations, parse

CORPUS = Path(__file__).parent / "masking_corpus"
DRIVERS: dict[str, Driver] = {".rsc": MikrotikRouterosDriver(), ".cfg": CiscoIosDriver()}
CONFIGS = sorted(p.name for p in CORPUS.iterdir() if p.suffix in DRIVERS)


def _config(name: str) -> tuple[Driver, str, list[str]]:
    path = CORPUS / name
    oracle = [line for line in (CORPUS / f"{name}.secrets").read_text().splitlines() if line.strip()]
    return DRIVERS[path.suffix], path.read_text(), oracle


def _leaks(text: str, oracle: list[str]) -> list[str]:
    return [secret for secret in oracle if secret in text]


def test_the_corpus_covers_both_routeros_versions_and_ios() -> None:
    assert CONFIGS == ["ios_router.cfg", "ios_switch.cfg", "routeros_v6_terse.rsc", "routeros_v6_verbose.rsc",
                       "routeros_v7_wifi_wireguard.rsc"]


@pytest.mark.parametrize("name", CONFIGS)
def test_no_oracle_secret_survives_masking(name: str) -> None:
    driver, text, oracle = _config(name)
    assert oracle and all(secret in text for secret in oracle), "the oracle lists values the config holds"
    assert _leaks(driver.mask_secrets(text), oracle) == []


@pytest.mark.parametrize("name", CONFIGS)
def test_no_oracle_secret_survives_in_a_stored_backup_or_a_dry_run_diff(name: str) -> None:
    driver, text, oracle = _config(name)
    assert _leaks(normalise(driver, text), oracle) == []
    # A dry run's diff: the whole config against an empty device, so every line (and secret) is in it.
    empty = "" if isinstance(driver, MikrotikRouterosDriver) else "hostname blank\n"
    diff = quiet_diff(driver, empty, driver.preview(empty, text))
    assert diff.count("\n+") > 20 and _leaks(diff, oracle) == []


@pytest.mark.parametrize("name", CONFIGS)
def test_masking_is_stable_and_keeps_the_config_readable(name: str) -> None:
    driver, text, _ = _config(name)
    masked = driver.mask_secrets(text)
    assert driver.mask_secrets(text) == masked
    assert driver.mask_secrets(masked) == masked
    assert MASK in masked
    assert quiet_diff(driver, text, text) == ""


@pytest.mark.parametrize("name", CONFIGS)
def test_each_config_diffed_against_itself_yields_no_commands(name: str) -> None:
    driver, text, _ = _config(name)
    assert driver.commands_for(text, text) == []
    assert driver.missing_lines(text, text) == []
    masked = driver.mask_secrets(text)
    assert driver.commands_for(masked, masked) == []


def test_routeros_value_on_the_next_line_of_a_wrapped_export_is_masked() -> None:
    text = ("/interface wireless security-profiles\n"
            "add mode=dynamic-keys name=p wpa2-pre-shared-key=\\\n"
            "    WifiDesa-2026\n")
    masked = MikrotikRouterosDriver().mask_secrets(text)
    assert "WifiDesa-2026" not in masked
    assert "add mode=dynamic-keys name=p wpa2-pre-shared-key=********" in masked
    cmd = parse(text)[0]
    assert cmd.params["wpa2-pre-shared-key"] == "WifiDesa-2026"  # joined exactly: no space added after "="
    assert join_continuations(text)[1].endswith("wpa2-pre-shared-key=WifiDesa-2026")


@pytest.mark.parametrize("line", [
    '/interface wireguard add listen-port=13231 name=wg1 private-key="yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="',
    '/interface wireguard peers add interface=wg1 preshared-key="yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="',
    "/snmp set enabled=yes trap-community=yAnz5TF+lXXJte14",
    "/tool romon set enabled=yes secrets=yAnz5TF+lXXJte14,other",
    "/interface lte set [ find default-name=lte1 ] pin=yAnz5TF+lXXJte14",
    "/interface wifi set [ find default-name=wifi1 ] security.passphrase=yAnz5TF+lXXJte14",
    "/system ntp key add key=yAnz5TF+lXXJte14 key-id=1",
    "/user add group=full name=teknisi password=yAnz5TF+lXXJte14",
    "/certificate export-certificate vpn export-passphrase=yAnz5TF+lXXJte14 type=pkcs12",
    "/ip ipsec peer add address=192.0.2.1/32 secret=yAnz5TF+lXXJte14",
    "/container config set registry-password=yAnz5TF+lXXJte14 registry-url=https://registry-1.docker.io",
    '/system scheduler add name=s on-event="/tool fetch url=\\"ftp://arsip:yAnz5TF+lXXJte14@10.0.0.9/a\\""',
    '/system script add name=s source="/tool fetch user=u password=\\"yAnz5TF+lXXJte14\\" url=x"',
    '/system script add name=s source="/system scheduler add on-event=\\"/tool fetch password=yAnz5TF+lXXJte14\\""',
])
def test_routeros_secret_classes_missed_before_are_masked(line: str) -> None:
    assert "yAnz5TF+lXXJte14" not in MikrotikRouterosDriver().mask_secrets(line)


def test_routeros_public_keys_and_names_stay_readable() -> None:
    line = ('/interface wireguard peers add allowed-address=10.99.0.2/32 interface=wg1 '
            'public-key="xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=" preshared-key="psk-value-1"')
    masked = MikrotikRouterosDriver().mask_secrets(line)
    assert 'public-key="xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="' in masked
    assert "interface=wg1" in masked and "psk-value-1" not in masked


def test_a_value_masked_once_is_masked_wherever_it_repeats() -> None:
    ros = MikrotikRouterosDriver().mask_secrets(
        "/snmp community add addresses=10.0.0.0/24 name=k0mun1tas\n"
        '/system note set note="komunitas snmp: k0mun1tas"\n'
        "/interface bridge add name=k0mun1tas-lan\n")
    assert ros.count("k0mun1tas") == 1 and "name=k0mun1tas-lan" in ros  # part of a longer word: not the secret
    ios = CiscoIosDriver().mask_secrets("snmp-server community Kom1nfo-RO RO\n"
                                        "snmp-server host 10.0.0.5 version 2c Kom1nfo-RO\n"
                                        "snmp-server host 10.0.0.6 Kom1nfo-RO\n"
                                        "interface Vlan10\n description cadangan Kom1nfo-RO\n")
    assert "Kom1nfo-RO" not in ios
    assert "snmp-server host 10.0.0.5 version 2c ********" in ios


def test_inventory_secrets_are_masked_wherever_they_appear() -> None:
    text = '/system script add name=cek source="/tool fetch url=http://10.0.0.9/?k=Inv3ntory-Secret"\n'
    assert "Inv3ntory-Secret" in MikrotikRouterosDriver().mask_secrets(text)
    assert "Inv3ntory-Secret" not in MikrotikRouterosDriver().mask_secrets(text, ("Inv3ntory-Secret",))
    assert "Inv3ntory-Secret" not in normalise(MikrotikRouterosDriver(), text, ("Inv3ntory-Secret",))
    ios = CiscoIosDriver().mask_secrets("interface Vlan1\n description Inv3ntory-Secret\n", ("Inv3ntory-Secret",))
    assert "Inv3ntory-Secret" not in ios
    # A value too short to hunt (it would match VLAN numbers and words) is masked only where it is set.
    assert "vlan 10" in CiscoIosDriver().mask_secrets("vlan 10\n", ("10",))


def test_ios_type7_plaintext_is_masked_where_it_repeats() -> None:
    assert decode_type7("0822455D0A16") == "cisco" and decode_type7("cisco") is None
    masked = CiscoIosDriver().mask_secrets("line vty 0 4\n password 7 0822455D0A16\nbanner login ^Cpw: cisco^C\n")
    assert "0822455D0A16" not in masked and "cisco" not in masked


@pytest.mark.parametrize("line", [
    "crypto isakmp key Isakmp-Psk address 198.51.100.70",
    " wpa-psk ascii 0 Isakmp-Psk",
    "  key-string 7 Isakmp-Psk",
    " key Isakmp-Psk",
    "username u algorithm-type scrypt secret 9 Isakmp-Psk",
    "snmp-server user u g v3 auth sha Isakmp-Psk priv aes 128 Isakmp-Psk",
    "  pre-shared-key address 203.0.113.60 key Isakmp-Psk",
    "  pre-shared-key local Isakmp-Psk",
    " ip ospf message-digest-key 1 md5 7 Isakmp-Psk",
    " client 10.0.0.2 server-key 7 Isakmp-Psk",
    " ppp pap sent-username a@b password 0 Isakmp-Psk",
    " neighbor 192.0.2.1 password 7 Isakmp-Psk",
    "key config-key password-encrypt Isakmp-Psk",
    " security wpa psk set-key ascii 0 Isakmp-Psk",
    " path ftp://arsip:Isakmp-Psk@10.0.0.9/$h-$t",
])
def test_ios_secret_forms_are_masked(line: str) -> None:
    assert "Isakmp-Psk" not in CiscoIosDriver().mask_secrets(line)


def test_ios_key_numbers_and_keywords_stay_readable() -> None:
    text = ("key chain K\n key 1\n  key-string 7 0822455D0A16\nntp server 10.0.0.1 key 1\n"
            "password encryption aes\nsnmp-server host 10.0.0.8 version 3 priv netmgr-v3\n"
            "snmp-server host 10.0.0.9 informs version 3 auth netmgr-v3\n"
            "dot11 ssid S\n authentication key-management wpa version 2\n")
    masked = CiscoIosDriver().mask_secrets(text)
    for kept in (" key 1\n", "ntp server 10.0.0.1 key 1", "password encryption aes", "priv netmgr-v3",
                 "snmp-server host 10.0.0.9 informs version 3 auth netmgr-v3",
                 "authentication key-management wpa version 2"):
        assert kept in masked


def test_ios_banner_text_is_not_taken_for_commands() -> None:
    text = "banner motd ^C\nMasukkan password anda untuk melanjutkan.\n^C\nline vty 0 4\n password Vty-Pw-1\n"
    masked = CiscoIosDriver().mask_secrets(text)
    assert "Masukkan password anda untuk melanjutkan." in masked and "Vty-Pw-1" not in masked


def test_a_push_log_with_echoed_prompts_is_masked() -> None:
    ios = CiscoIosDriver().mask_secrets("rtr-wan(config)#snmp-server community Log-Community-1 RO\n"
                                        "rtr-wan(config)#crypto isakmp key Log-Isakmp-2 address 192.0.2.1\n"
                                        "rtr-wan(config)#end\n")
    assert "Log-Community-1" not in ios and "Log-Isakmp-2" not in ios
    assert "rtr-wan(config)#snmp-server community ******** RO" in ios
    ros = MikrotikRouterosDriver().mask_secrets("[admin@rtr-balai] > /snmp community add name=Log-Community-1\n")
    assert "Log-Community-1" not in ros
    assert "[admin@rtr-balai] > /snmp community add name=********" in ros


def test_a_rotated_encrypted_secret_does_not_show_in_the_diff() -> None:
    ios = CiscoIosDriver()
    assert quiet_diff(ios, "line vty 0 4\n password 7 0822455D0A16\n", "line vty 0 4\n password 7 02050D480809\n") == ""
    ros = MikrotikRouterosDriver()
    assert quiet_diff(ros, "/radius add address=10.0.0.2 secret=old-secret-1\n",
                      "/radius add address=10.0.0.2 secret=new-secret-2\n") == ""
