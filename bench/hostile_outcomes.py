"""What one hostile run found (:class:`Outcome`) and the campaign's counts (:class:`Tally`).

Every count of a :class:`Tally` must be zero: a file touched outside the bundle, a secret shown
in an output, a traceback, or an exit status other than the variant's (0 for one that opens, 2
for one refused with a typed error).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Outcome:
    variant: str
    command: str
    rc: int
    opens: bool
    stdout: str
    stderr: str
    seconds: float
    touched: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    bundle_after: list[str] = field(default_factory=list)  # the bundle's entries after the run

    @property
    def crashed(self) -> bool:
        """A traceback or an unexpected error: never for any input."""
        text = self.stderr + self.stdout
        return self.rc not in (0, 2) or "Traceback" in text or "unexpected" in text

    @property
    def as_expected(self) -> bool:
        return self.rc == (0 if self.opens else 2)

    @property
    def ok(self) -> bool:
        return not self.touched and not self.leaks and not self.crashed and self.as_expected

    def describe(self) -> str:
        lines = [f"{self.variant} x {self.command}: exit {self.rc} ({self.seconds:.1f} s)"]
        lines += [f"  touched outside: {t}" for t in self.touched]
        lines += [f"  leak: {leak}" for leak in self.leaks]
        if not self.as_expected:
            lines.append(f"  expected exit {0 if self.opens else 2}")
        if self.stderr.strip():
            lines.append("  stderr: " + self.stderr.strip().replace("\n", "\n          "))
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Tally:
    runs: int
    touched: int  # files created, changed or deleted outside the bundles: must be 0
    leaks: int  # outputs showing what was outside: must be 0
    crashed: int  # tracebacks and unexpected errors: must be 0
    unexpected_exit: int  # opened when it should be refused, or the other way round
    seconds: float

    def __str__(self) -> str:
        return (
            f"hostile project runs: {self.runs}; files touched outside: {self.touched}; "
            f"leaks: {self.leaks}; tracebacks: {self.crashed}; unexpected exit status: "
            f"{self.unexpected_exit}; {self.seconds:.0f} s"
        )


def tally(outcomes: list[Outcome]) -> Tally:
    return Tally(
        runs=len(outcomes),
        touched=sum(len(o.touched) for o in outcomes),
        leaks=sum(len(o.leaks) for o in outcomes),
        crashed=sum(o.crashed for o in outcomes),
        unexpected_exit=sum(not o.as_expected for o in outcomes),
        seconds=sum(o.seconds for o in outcomes),
    )
