"""Hypothesis strategies for the domain, shared by the plan file, storage and engine tests.

``valid_plans()`` generates plans that ``validate_plan`` accepts without an inventory: unique names,
well-formed server IDs, no server in two groups or two waves, every group used by at most one wave,
non-empty waves, ``optional`` within the wave, dependencies on earlier waves only. Names and messages
include strings a YAML reader could mistake for something else ("yes", "1.0", "null", "- x"...), and
every printable character; names hold no control, bidi or surrogate characters (``domain.safe_text``),
free text (descriptions, approval messages) may hold tabs and line breaks.

``hostile_strings`` generates what plans must refuse in names: control characters, bidi controls, line
separators and lone surrogates, hidden inside otherwise ordinary text.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from drs_desktop.domain.plan.automation import (
    HealthCheckStep,
    LambdaStep,
    OnFailure,
    Probe,
    Reach,
    RunIn,
    ScriptStep,
    SsmStep,
    StepPolicy,
)
from drs_desktop.domain.plan.model import (
    ApprovalStep,
    ProtectionGroup,
    RecoveryPlan,
    Step,
    WaitStep,
    Wave,
)
from drs_desktop.domain.plan.validation import MAX_MINUTES
from drs_desktop.domain.safe_text import name_problem, text_problem

__all__ = [
    "automation_steps",
    "hostile_strings",
    "names",
    "server_ids",
    "steps",
    "tag_selectors",
    "texts",
    "valid_plans",
]

_ID_ALPHABET = string.ascii_letters + string.digits

#: Strings that YAML 1.1 or 1.2 readers would take for other types, or that need careful quoting.
TRICKY_STRINGS = (
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "null",
    "Null",
    "~",
    "true",
    "False",
    "1.0",
    "1e3",
    "0o17",
    "0x1F",
    "017",
    "1_000",
    "+1",
    "-1",
    ".5",
    ".inf",
    "-.Inf",
    ".NaN",
    "2024-01-01",
    "2001-12-14t21:59:43.10-05:00",
    "12:30:00",
    "=",
    "<<",
    "- item",
    "a: b",
    "key:",
    "#not a comment",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "'single'",
    '"double"',
    "  padded  ",
    "trailing space ",
    "multi\nline",
    "tab\tinside",
    "back\\slash",
    "Ünïcödé ✓ 日本語",
    "emoji 🚀",
    "[flow]",
    "{flow: map}",
    "a, b",
    "?",
    "---",
    "...",
)

server_ids = st.text(alphabet=_ID_ALPHABET, min_size=17, max_size=17).map(lambda tail: "s-" + tail)

_REFUSED_IN_NAMES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
#: Every character a name may hold: no Cc (C0, DEL, C1), no Cs (surrogates), no bidi controls.
_NAME_CHARACTERS = st.characters(exclude_categories=["Cc", "Cs"], exclude_characters=_REFUSED_IN_NAMES)
_TEXT_CHARACTERS = _NAME_CHARACTERS | st.sampled_from("\t\n\r")

texts = st.one_of(
    st.sampled_from(TRICKY_STRINGS).filter(lambda text: text_problem(text) is None),
    st.text(_TEXT_CHARACTERS, max_size=30),
)

names = st.one_of(
    st.sampled_from(TRICKY_STRINGS).filter(lambda text: name_problem(text) is None),
    st.text(_NAME_CHARACTERS, min_size=1, max_size=24),
).filter(lambda text: bool(text.strip()))

#: One character of each kind a name must not hold.
HOSTILE_CHARACTERS = (
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9b",
    "\t",
    "\n",
    "\r",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u2028",
    "\u2029",
    "\ud800",
    "\udfff",
)

hostile_strings = st.tuples(
    st.text(max_size=8),
    st.one_of(
        st.sampled_from(HOSTILE_CHARACTERS),
        st.sampled_from(["\x1b[2J", "\x1b]0;owned\x07", "\u202egnp.exe"]),
        st.characters(categories=["Cc", "Cs"]),
    ),
    st.text(max_size=8),
).map("".join)

minutes = st.integers(min_value=1, max_value=MAX_MINUTES)

tag_selectors = st.dictionaries(names, st.one_of(st.just(""), names), min_size=1, max_size=3)

steps: st.SearchStrategy[Step] = st.one_of(
    texts.filter(lambda text: bool(text.strip())).map(ApprovalStep),
    minutes.map(WaitStep),
)


@st.composite
def valid_plans(draw: st.DrawFn, max_waves: int = 5, max_groups: int = 4) -> RecoveryPlan:
    """A recovery plan with no validation errors (and no warnings: waves stay small)."""
    wave_names = draw(st.lists(names, min_size=1, max_size=max_waves, unique=True))
    pool = list(
        draw(st.lists(server_ids, min_size=len(wave_names), max_size=len(wave_names) + 16, unique=True))
    )
    reserved = pool[: len(wave_names)]  # one per wave, so no wave need be empty
    spare = pool[len(wave_names) :]

    def take(count: int) -> tuple[str, ...]:
        taken = tuple(spare[:count])
        del spare[:count]
        return taken

    groups: list[ProtectionGroup] = []
    for group_name in draw(st.lists(names, max_size=max_groups, unique=True)):
        if len(spare) > 0 and draw(st.booleans()):
            groups.append(
                ProtectionGroup(group_name, server_ids=take(draw(st.integers(1, min(4, len(spare))))))
            )
        else:
            groups.append(ProtectionGroup(group_name, tags=draw(tag_selectors)))

    unused = list(range(len(groups)))
    waves: list[Wave] = []
    for index, wave_name in enumerate(wave_names):
        chosen: list[int] = []
        if unused:
            chosen = draw(st.lists(st.sampled_from(unused), max_size=2, unique=True))
            unused = [g for g in unused if g not in chosen]
        servers = list(take(draw(st.integers(0, min(3, len(spare))))))
        if (not chosen and not servers) or draw(st.booleans()):
            servers.insert(draw(st.integers(0, len(servers))), reserved[index])
        explicit = [sid for g in chosen for sid in groups[g].server_ids] + servers
        optional = draw(st.lists(st.sampled_from(explicit), unique=True, max_size=3)) if explicit else []
        earlier = wave_names[:index]
        depends_on = draw(
            st.one_of(
                st.none(),
                st.lists(st.sampled_from(earlier), unique=True, max_size=3).map(tuple)
                if earlier
                else st.just(()),
            )
        )
        waves.append(
            Wave(
                name=wave_name,
                groups=tuple(groups[g].name for g in chosen),
                servers=tuple(servers),
                optional=tuple(optional),
                depends_on=depends_on,
                before=tuple(draw(st.lists(steps, max_size=2))),
                after=tuple(draw(st.lists(steps, max_size=2))),
            )
        )
    return RecoveryPlan(
        name=draw(names),
        description=draw(st.one_of(st.just(""), texts)),
        rto_minutes=draw(st.one_of(st.none(), minutes)),
        rpo_minutes=draw(st.one_of(st.none(), minutes)),
        protection_groups=tuple(groups),
        waves=tuple(waves),
    )


# ------------------------------------------------------------------------------------- automation steps

_durations = st.integers(min_value=1, max_value=24 * 3600)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)),
    max_leaves=8,
)
_policies = st.builds(
    StepPolicy,
    timeout_seconds=_durations,
    retries=st.integers(min_value=0, max_value=10),
    on_failure=st.sampled_from(OnFailure),
    run_in=st.sampled_from(RunIn),
)


def automation_steps(servers: tuple[str, ...] = ()) -> st.SearchStrategy[Step]:
    """Automation steps of every kind with every field drawn (their ``servers`` among ``servers``); the
    plan file must give each back as it was. Not all are valid plans' steps (the shapes are what counts)."""
    subsets = st.lists(st.sampled_from(servers), unique=True).map(tuple) if servers else st.just(())
    return st.one_of(
        st.builds(
            HealthCheckStep,
            name=names,
            probe=st.sampled_from(Probe),
            port=st.integers(min_value=1, max_value=65535),
            servers=subsets,
            path=names,
            expect_status=st.one_of(st.none(), st.integers(min_value=100, max_value=599)),
            expect_body=st.one_of(st.none(), texts),
            interval_seconds=_durations,
            must_pass=st.one_of(st.none(), st.integers(min_value=1, max_value=3)),
            reach=st.sampled_from(Reach),
            via=st.one_of(st.none(), names),
            policy=_policies,
        ),
        st.builds(
            SsmStep,
            name=names,
            document=names,
            parameters=st.dictionaries(names, st.lists(texts, max_size=3).map(tuple), max_size=3),
            servers=subsets,
            document_version=st.one_of(st.none(), names),
            policy=_policies,
        ),
        st.builds(
            LambdaStep,
            name=names,
            function=names,
            payload=st.dictionaries(names, _json, max_size=3),
            policy=_policies,
        ),
        st.builds(
            ScriptStep,
            name=names,
            path=names,
            arguments=st.lists(texts, max_size=3).map(tuple),
            environment=st.dictionaries(names, texts, max_size=3),
            policy=_policies,
        ),
    )
