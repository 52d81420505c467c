"""Property: every line a template renders is pushed, already compliant, or refused with its number — never nowhere.

Templates are generated from each platform's grammar with the mistakes people make (a mistyped verb, a
command outside any menu, ``end`` pasted from ``show running-config``, a line before the first file);
the running config is drawn from valid lines only, as a device's own export would be.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.drivers import CiscoIosDriver, LinuxDriver, MikrotikRouterosDriver
from provisioning.drivers.base import Driver, LinePlan
from provisioning.drivers.cisco_ios import flatten
from provisioning.drivers.linux import FILE_HEADER, parse_files
from provisioning.drivers.mikrotik_routeros import parse

MENUS = ["/ip address", "/ip dns", "/snmp", "/snmp community", "/system identity", "/interface vlan"]
GOOD_VERBS = ["add", "set"]
OTHER_VERBS = ["remove", "enable", "disable", "ad", "bogus-command", "st", "print"]
KEYS = ["name", "address", "interface", "servers", "enabled", "vlan-id", "foo"]
VALUES = ["1", "yes", "ether1", "10.1.1.1/24", "netmgr-ro", '"Taman Kota"']

params = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=3,
                  unique_by=lambda kv: kv[0]).map(lambda kvs: " ".join(f"{k}={v}" for k, v in kvs))


@st.composite
def routeros_line(draw: st.DrawFn, *, valid_only: bool = False) -> str:
    menu = draw(st.sampled_from(MENUS))
    verb = draw(st.sampled_from(GOOD_VERBS if valid_only else GOOD_VERBS + OTHER_VERBS))
    return f"{menu} {verb} {draw(params)}".rstrip()


@st.composite
def routeros_template(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(st.one_of(
        routeros_line(),
        st.just("# a comment"),
        st.just(""),
        st.builds(lambda v, p: f"{v} {p}".rstrip(), st.sampled_from(GOOD_VERBS + OTHER_VERBS), params),  # no menu
        st.builds(lambda m, lines: "\n".join([m, *lines]), st.sampled_from(MENUS),  # a section and its lines
                  st.lists(st.builds(lambda v, p: f"{v} {p}".rstrip(), st.sampled_from(GOOD_VERBS), params),
                           max_size=2)),
        st.builds(lambda line: line.replace(" ", " \\\n    ", 1), routeros_line()),  # a continued line
    ), min_size=1, max_size=8))
    return "\n".join(blocks) + "\n"


@st.composite
def ios_template(draw: st.DrawFn) -> str:
    top = st.sampled_from(["hostname sw-1", "ntp server 10.0.0.1", "snmp-server community netmgr-ro RO",
                           "snmp-server bogus-thing foo", "no ip domain-lookup", "end", "!", "", "clock timezone WIB 7",
                           "Building configuration..."])
    block = st.builds(lambda head, kids: "\n".join([head, *(f" {k}" for k in kids)]),
                      st.sampled_from(["interface Gi0/1", "interface Vlan20", "line vty 0 4"]),
                      st.lists(st.sampled_from(["description uplink", "shutdown", "no shutdown",
                                                "ip address 10.1.1.2 255.255.255.252", "bogus child"]), max_size=3))
    return "\n".join(draw(st.lists(st.one_of(top, block), min_size=1, max_size=8))) + "\n"


@st.composite
def linux_template(draw: st.DrawFn) -> str:
    content = st.lists(st.sampled_from(["server 10.0.0.1 iburst", "# comment in a file", "tc qdisc replace dev eth0",
                                        "option x 1"]), max_size=3)
    files = st.builds(lambda name, lines: "\n".join([f"{FILE_HEADER}{name}", *lines]),
                      st.sampled_from(["ntp.conf", "shape.sh", "opennds.conf", "bad name", "../x"]), content)
    stray = st.lists(st.sampled_from(["server 10.0.0.9", "# notes", ""]), max_size=2)
    return "\n".join([*draw(stray), *draw(st.lists(files, min_size=1, max_size=4))]) + "\n"


def _content_lines(text: str, comment: str) -> dict[int, str]:
    """Non-blank, non-comment lines; in a Linux template only lines before the first file can be comments."""
    lines = text.split("\n")
    first_file = next((i for i, line in enumerate(lines) if line.startswith(FILE_HEADER)), len(lines))
    if comment == FILE_HEADER:
        return {n: line for n, line in enumerate(lines, start=1)
                if line.strip() and not (n <= first_file and line.lstrip().startswith("#"))}
    return {n: line for n, line in enumerate(lines, start=1) if line.strip() and not line.strip().startswith(comment)}


def _assert_every_line_accounted(driver: Driver, plan: LinePlan, desired: str, comment: str) -> None:
    refused = {n for p in plan.problems for n in (p.number, *p.continued)}
    nowhere = {n: line for n, line in _content_lines(desired, comment).items()
               if n not in plan.pushed and n not in plan.compliant and n not in refused}
    assert nowhere == {}, f"lines neither pushed, compliant nor refused: {nowhere}"
    assert not plan.pushed & plan.compliant
    assert [p.number for p in plan.problems] == [p.number for p in driver.check_lines(desired)]


@settings(max_examples=300, deadline=None)
@given(desired=routeros_template(), running_lines=st.lists(routeros_line(valid_only=True), max_size=6))
def test_routeros_every_rendered_line_is_pushed_compliant_or_refused(desired: str, running_lines: list[str]) -> None:
    driver = MikrotikRouterosDriver()
    running = "\n".join(running_lines) + "\n"
    plan = driver.plan(running, desired)
    _assert_every_line_accounted(driver, plan, desired, "#")
    assert driver.commands_for(running, desired) == plan.commands
    have = parse(running)
    for want in parse(desired):
        if set(want.lines) <= plan.compliant:  # compliant means the export really shows it
            assert want.verb in GOOD_VERBS
            assert any(c.path == want.path and c.verb == want.verb
                       and all(c.params.get(k) == v for k, v in want.params.items()) for c in have), want.text
        else:
            assert any(c.startswith(want.path) for c in plan.commands), want.text
    preview = driver.preview(running, desired).splitlines()
    assert all(c in preview for c in plan.commands), "the diff shows every command that would be pushed"


@settings(max_examples=300, deadline=None)
@given(desired=ios_template(), running=ios_template())
def test_ios_every_rendered_line_is_pushed_compliant_or_refused(desired: str, running: str) -> None:
    driver = CiscoIosDriver()
    plan = driver.plan(running, desired)
    _assert_every_line_accounted(driver, plan, desired, "!")
    assert driver.commands_for(running, desired) == plan.commands
    have = set(flatten(running))
    numbered = dict(enumerate(desired.split("\n"), start=1))
    for number in plan.compliant:
        line = numbered[number].strip()
        assert any(pair[1] == line for pair in have), line
    for number in plan.pushed:
        line = numbered[number].strip()
        assert line in [c.strip() for c in plan.commands], line
    preview = driver.preview(running, desired).splitlines()
    assert all(c.strip() in [p.strip() for p in preview] for c in plan.commands if c != "exit")


@settings(max_examples=300, deadline=None)
@given(desired=linux_template(), running=linux_template())
def test_linux_every_rendered_line_is_pushed_compliant_or_refused(desired: str, running: str) -> None:
    driver = LinuxDriver()
    if driver.check_lines(running):
        running = ""  # a device's own directory never holds a bad name
    plan = driver.plan(running, desired)
    _assert_every_line_accounted(driver, plan, desired, FILE_HEADER)
    if plan.problems:
        return
    assert driver.commands_for(running, desired) == plan.commands
    have, want = parse_files(running), parse_files(desired)
    changed = {name for name, content in want.items() if have.get(name) != content}
    assert len([c for c in plan.commands if "base64 -d" in c]) == len(changed)
    current = ""
    for number, line in enumerate(desired.split("\n"), start=1):
        if line.startswith(FILE_HEADER):
            current = line[len(FILE_HEADER):].strip()
        if number in plan.compliant:
            assert current not in changed
