"""Satisfaction surveys: one after each closed complaint, yearly campaigns to every contact,
the personal links, answering and scoring, low-score follow-ups, and the results.

Rooms: ``links`` (a survey's personal link: derived token, hash, lookup), ``scheduling``
(a closed complaint's survey, its recipient and e-mail, when it is due; the workflow listener
``on_transition`` is registered by the application factory), ``campaigns`` (yearly campaigns
in batches, progress), ``answers`` (the questions and scale, answering and scoring, low-score
follow-ups), ``results`` (results by module, customer, product line and month; CSV and Excel).

Nothing here commits except ``send`` callers in jobs/surveys.py. Every function assumes the
tenant is active. A link's token is derived (HMAC with SECRET_KEY) from what the survey is
for, so the database keeps only its hash, yet a reminder can repeat the same link.
"""

from .answers import (  # noqa: F401
    EDIT_HOURS,
    MODULE_LABELS,
    MODULES,
    QUESTION_LABELS,
    SCALE,
    SCALE_VALUES,
    TEXT_LIMIT,
    SurveyClosed,
    mark_opened,
    open_follow_up,
    score,
    service_lead,
    state,
    submit,
    weights_of,
)
from .campaigns import (  # noqa: F401
    BATCH_SIZE,
    CampaignError,
    batches,
    create_campaign,
    launch,
    populate,
    progress,
)
from .links import (  # noqa: F401
    CAMPAIGN_LINK_DAYS,
    COMPLAINT_LINK_DAYS,
    find_by_token,
    link_for,
    scope_of,
    survey_token,
    token_for,
    token_hash,
)
from .results import (  # noqa: F401
    EXPORT_HEADER,
    Bucket,
    Results,
    answered_rows,
    export_csv,
    export_rows,
    export_xlsx,
    results,
)
from .scheduling import (  # noqa: F401
    Recipient,
    compose,
    due_for_reminder,
    due_for_sending,
    on_transition,
    recipient_of,
    schedule_for_complaint,
)
