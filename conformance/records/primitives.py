"""Records of the primitives: every name of ``refkeras.primitives.interface.ALL_PRIMITIVES``."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance import strategies as cs
from conformance.registry import Case, ErrorModel, Record

PRIMITIVE_CHECKS = ("forward", "vjp", "vjp_fd")


def expected_components() -> list[str]:
    from refkeras.primitives.interface import ALL_PRIMITIVES

    return [f"primitive.{n}" for n in ALL_PRIMITIVES]


def _binary_cases(domain_a=cs.DEFAULT, domain_b=cs.DEFAULT):
    def strategy(dtype):
        @st.composite
        def case(draw):
            sa, sb = draw(cs.broadcastable_shapes())
            return Case(
                (draw(cs.arrays(sa, dtype, domain_a)), draw(cs.arrays(sb, dtype, domain_b)))
            )

        return case()

    return strategy


RECORDS = [
    Record(
        "primitive.add", PRIMITIVE_CHECKS, _binary_cases(), target="add", error=ErrorModel(ulps=1)
    ),
]
