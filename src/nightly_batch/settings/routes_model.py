"""`digestRoutes`: which slice of the digest each channel gets (issue 19). A channel without a
route gets the whole digest, so a config without routes delivers as before."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nightly_batch.settings.checks import Number, refusal

Fraction = Annotated[Number, Field(ge=0, le=1)]
Word = Annotated[str, Field(min_length=1, max_length=100)]


def _named(values: list[str]) -> list[str]:
    # An empty list would match no lead at all: a channel silently sent nothing, every day.
    if not values:
        raise refusal("must name at least one (leave the key out to take every lead)")
    return values


Names = Annotated[list[Word], AfterValidator(_named)]


class DigestRoute(BaseModel):
    """One channel's slice: the leads that pass every filter given (all leads if none is)."""

    # A misspelt filter would silently send the channel everything, so unknown keys are refused.
    model_config = ConfigDict(
        alias_generator=to_camel, extra="forbid", frozen=True, allow_inf_nan=False
    )

    subreddits: Names | None = Field(
        None,
        description="leads from these subreddits only (`selfhosted` or `r/selfhosted`, any case)",
    )
    tags: Names | None = Field(
        None,
        description="leads whose `tag` (or one of whose `tags`) is one of these, any case",
    )
    min_confidence: Fraction | None = Field(
        None, description="leads whose confidence is at least this"
    )
