"""The complaint's vocabulary: every enumerated value a complaint, its requests, actions,
costs, timeline and reports take, with its words in both languages (English msgids, Chinese
in the catalog). The portal, the workspace, e-mails, PDFs and spreadsheets read their labels
here, so a status or a demand is called the same everywhere it is shown to the same audience.

Where the customer and staff are told different words for the same value (a status, a
demand, a timeline entry), both live here side by side: ``CUSTOMER_…`` for the portal and
customer e-mails, the plain name for the workspace. The models import the value tuples from
here (their columns hold these strings); who may do what is ``permissions.py``'s.
"""

from __future__ import annotations

from ..i18n import lazy_gettext as _l

# --- the complaint -------------------------------------------------------------------------

# The status column's values, in the order a complaint normally travels them. The moves
# between them are the workflow's (workflow.py), who may make them permissions.py's.
STATUSES = ("received", "verifying", "waiting_customer", "accepted", "rejected", "containment",
            "analysis", "corrective_action", "verifying_effectiveness", "answered", "closed")
OPEN_STATUSES = tuple(s for s in STATUSES if s not in ("rejected", "closed"))

# What the customer reads.
CUSTOMER_STATE_LABELS = {
    "received": _l("Received"),
    "verifying": _l("Being verified"),
    "waiting_customer": _l("Waiting for your information"),
    "accepted": _l("Accepted as a quality case"),
    "rejected": _l("Not a product problem"),
    "containment": _l("Containment"),
    "analysis": _l("Root-cause analysis"),
    "corrective_action": _l("Corrective action"),
    "verifying_effectiveness": _l("Verifying effectiveness"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
}
# What staff read (the same, but the customer is not "you").
STAFF_STATE_LABELS = {**CUSTOMER_STATE_LABELS, "waiting_customer": _l("Waiting on customer")}

SOURCES = ("customer", "staff", "production")
# How it reached us: the portal, or staff recording a phone/e-mail complaint, or where in
# production an internal exception was found.
CHANNELS = ("portal", "phone", "email", "visit", "incoming", "in_process", "outgoing")
CHANNEL_LABELS = {"portal": _l("Portal"), "phone": _l("Phone"), "email": _l("E-mail"),
                  "visit": _l("Visit"), "incoming": _l("Incoming inspection"),
                  "in_process": _l("In process"), "outgoing": _l("Outgoing inspection")}

DEMANDS = ("onsite", "replacement", "exchange", "return", "claim", "penalty", "answer")
# The customer's words for what they ask (the portal's form and their complaint page).
CUSTOMER_DEMAND_LABELS = {
    "onsite": _l("Send someone on site"),
    "replacement": _l("Send replacement parts"),
    "exchange": _l("Exchange the goods"),
    "return": _l("Take the goods back"),
    "claim": _l("Compensation (claim)"),
    "penalty": _l("Penalty as agreed"),
    "answer": _l("Only an answer"),
}
# The workspace's terms for the same demands (staff filing, the case page, the 8D sheet).
DEMAND_LABELS = {
    "onsite": _l("On-site service"), "replacement": _l("Replenishment"),
    "exchange": _l("Exchange"), "return": _l("Return"), "claim": _l("Claim"),
    "penalty": _l("Penalty"), "answer": _l("An answer"),
}

SEVERITIES = ("minor", "general", "major")
SEVERITY_LABELS = {"minor": _l("Minor"), "general": _l("General"), "major": _l("Major")}

# Information classes (DOMAIN.md): A starts the tighter clock. The letters are the labels.
INFO_CLASSES = ("A", "B")
CLASS_LABELS = {"A": "A", "B": "B"}

# The 5M1E cause categories, plus "other" (logistics, transport, unknown).
CAUSE_CATEGORIES = ("man", "machine", "material", "method", "measurement", "environment", "other")
CAUSE_LABELS = {
    "man": _l("Man / operation"), "machine": _l("Machine / equipment"),
    "material": _l("Material"), "method": _l("Method"), "measurement": _l("Measurement"),
    "environment": _l("Environment"), "other": _l("Other (logistics, transport, unknown)"),
}

# --- its work: actions, requests and approvals, costs ---------------------------------------

ACTION_KINDS = ("containment", "corrective", "preventive", "follow_up")
ACTION_LABELS = {"containment": _l("Containment"), "corrective": _l("Corrective"),
                 "preventive": _l("Preventive"), "follow_up": _l("Follow-up")}

REQUEST_KINDS = ("replacement", "exchange", "return", "claim", "onsite")
REQUEST_LABELS = {"replacement": _l("Replacement"), "exchange": _l("Exchange"),
                  "return": _l("Return"), "claim": _l("Claim"), "onsite": _l("On-site service")}
# open -> (approval chain) approved / refused -> shipped / received / paid
REQUEST_STATE_LABELS = {
    "open": _l("Open"), "pending_approval": _l("Waiting for approval"),
    "approved": _l("Approved"), "refused": _l("Refused"), "shipped": _l("Shipped"),
    "received": _l("Received"), "paid": _l("Paid"),
}
REQUEST_STATES = tuple(REQUEST_STATE_LABELS)
# Who carries shipped goods: the common carriers, or "other" with its name typed.
CARRIER_LABELS = {"sf": _l("SF Express"), "jd": _l("JD Logistics"), "zto": _l("ZTO Express"),
                  "yto": _l("YTO Express"), "yunda": _l("Yunda Express"), "sto": _l("STO Express"),
                  "ems": _l("EMS (China Post)"), "deppon": _l("Deppon Logistics"),
                  "other": _l("Other carrier")}
CARRIERS = tuple(CARRIER_LABELS)
APPROVAL_DECISIONS = ("approved", "refused")
# Asked for out of warranty, these are billed to the customer (the request says so).
CHARGEABLE_KINDS = ("replacement", "onsite")

# --- spreadsheet imports (portal/imports/, models.IMPORT_STATES) ----------------------------

IMPORT_STATE_LABELS = {
    "uploaded": _l("Uploaded"), "validating": _l("Checking"),
    "previewed": _l("Checked, not written yet"), "queued": _l("Waiting to be written"),
    "importing": _l("Writing"), "done": _l("Written"), "failed": _l("Not written"),
}

# --- warranty ---------------------------------------------------------------------------------

WARRANTY_STATUSES = ("in_warranty", "expired", "unknown")
WARRANTY_LABELS = {"in_warranty": _l("In warranty"), "expired": _l("Warranty expired"),
                   "unknown": _l("Warranty unknown")}
# What a product model's warranty term counts from.
WARRANTY_BASES = ("shipment", "installation")
WARRANTY_BASIS_LABELS = {"shipment": _l("From shipment"),
                         "installation": _l("From installation")}

# Staff roles (a user holds one or more; an approval chain names roles). Who may do what is
# permissions.py's; these are the words.
ROLES = (
    "after_sales",
    "quality",
    "technical",
    "responder",  # a responsible department's engineer (production, purchasing, …)
    "logistics",
    "finance",
    "manager",
    "admin",  # tenant administrator
)
ROLE_LABELS = {
    "after_sales": _l("After-sales"), "quality": _l("Quality"), "technical": _l("Technical"),
    "responder": _l("Responsible department"), "logistics": _l("Logistics"),
    "finance": _l("Finance"), "manager": _l("Manager"), "admin": _l("Administrator"),
}
# The roles an approval chain may ask (the administrator signs nothing as such).
APPROVER_ROLES = tuple(r for r in ROLES if r != "admin")

COST_CATEGORIES = ("replacement", "freight", "rework", "scrap", "claim", "onsite", "other")
COST_LABELS = {"replacement": _l("Replacement"), "freight": _l("Freight"),
               "rework": _l("Rework"), "scrap": _l("Scrap"), "claim": _l("Claim"),
               "onsite": _l("On-site service"), "other": _l("Other")}
# A cost entry stays on record when it is corrected (replaced by a new entry) or voided; only
# active entries count in totals.
COST_STATES = ("active", "corrected", "voided")
COST_STATE_LABELS = {"active": _l("Valid"), "corrected": _l("Corrected"), "voided": _l("Voided")}

# The sign-off cells of the printed forms (pdf/_macros.html's signoffs): each filled from the
# record that signs it (a timeline event, a decision), else an empty box to sign by hand.
SIGNOFF_LABELS = {
    "accepted": _l("Accepted as a quality case"), "root_cause": _l("Root cause"),
    "effective": _l("Effectiveness verified"), "answered": _l("Answer to the customer"),
    "closed": _l("Closed"), "prepared": _l("Prepared"),
    "department": _l("Responsible department"), "finance": _l("Finance"),
    "approved": _l("Approved"), "issued": _l("Issued"), "supplier": _l("Supplier's answer"),
    "decided": _l("Quality's decision"),
}

# --- escalation reports ---------------------------------------------------------------------

REPORT_KINDS = ("market_exception", "special")
REPORT_KIND_LABELS = {"market_exception": _l("Market quality exception report"),
                      "special": _l("Quality special report")}
REPORT_TRIGGER_LABELS = {
    "ratio_exception": _l("Defect ratio above the exception threshold"),
    "severe": _l("Severe problem (sparking, burning)"),
    "ratio_special": _l("Defect ratio above the special-report threshold"),
    "repeat": _l("Repeated complaints on the same problem"),
    "safety": _l("Hazard to personal safety"),
}
REPORT_STATES = ("open", "issued", "closed")
REPORT_STATE_LABELS = {"open": _l("Open"), "issued": _l("Issued"), "closed": _l("Closed")}
# What a report's history records (internal/reports.py).
REPORT_EVENT_LABELS = {"opened": _l("Opened"), "owner": _l("Owner set"), "issued": _l("Issued"),
                       "edited": _l("Edited")}

# --- the 8D report (portal/complaints/eight_d.py, eight_d_team.py, effectiveness.py)

EIGHT_D_ROLES = ("leader", "member", "champion")
EIGHT_D_ROLE_LABELS = {"leader": _l("Team leader"), "member": _l("Team member"),
                       "champion": _l("Champion (management sponsor)")}
# D6: what the validation of the implemented actions showed.
VALIDATION_RESULTS = ("passed", "partial", "failed")
VALIDATION_RESULT_LABELS = {"passed": _l("Validated: the actions remove the problem"),
                            "partial": _l("Partly validated: more actions needed"),
                            "failed": _l("Not validated: the problem remains")}
# The recurrence check after an effective verdict.
RECURRENCE_RESULTS = ("no_recurrence", "recurred")
RECURRENCE_RESULT_LABELS = {"no_recurrence": _l("No recurrence"),
                            "recurred": _l("The problem came back")}

# --- supplier corrective action requests (portal/suppliers/requests.py)

SUPPLIER_REQUEST_STATE_LABELS = {"sent": _l("Waiting for the supplier"), "answered": _l("Answered"),
                "accepted": _l("Answer accepted"), "rejected": _l("Answer rejected"),
                "closed": _l("Closed")}

# --- returns and exchanges (portal/returns/): the RMA record and its appraisal ---------------

# awaiting goods -> received (logistics) -> analysed (after-sales) -> appraised (quality)
# -> issued (good parts, after-sales) -> closed
RETURN_STATES = ("awaiting_goods", "received", "analysed", "appraised", "issued", "closed")
RETURN_STATE_LABELS = {
    "awaiting_goods": _l("Waiting for the goods"), "received": _l("Received, in quarantine"),
    "analysed": _l("First analysis done"), "appraised": _l("Appraised"),
    "issued": _l("Good parts issued"), "closed": _l("Closed"),
}
CUSTOMER_RETURN_STATE_LABELS = {
    "awaiting_goods": _l("Waiting for your goods"), "received": _l("Received, being examined"),
    "analysed": _l("Received, being examined"), "appraised": _l("Examined"),
    "issued": _l("Good parts sent"), "closed": _l("Completed"),
}
RETURN_CONDITIONS = ("intact", "packaging_damaged", "part_damaged", "incomplete")
RETURN_CONDITION_LABELS = {
    "intact": _l("Intact"), "packaging_damaged": _l("Packaging damaged"),
    "part_damaged": _l("Part damaged in transit"), "incomplete": _l("Incomplete"),
}
# After-sales' first grading (分档) of what came back.
RETURN_GRADES = ("suspected_defect", "suspected_misuse", "to_confirm")
RETURN_GRADE_LABELS = {
    "suspected_defect": _l("Suspected product defect (within warranty)"),
    "suspected_misuse": _l("Suspected misuse or outside warranty"),
    "to_confirm": _l("Unclear: quality to confirm"),
}
# Quality's appraisal verdict on the warranty return appraisal form.
RETURN_VERDICTS = ("quality_problem", "misuse", "no_fault")
RETURN_VERDICT_LABELS = {
    "quality_problem": _l("Product quality problem"), "misuse": _l("Misuse"),
    "no_fault": _l("No fault found"),
}
CUSTOMER_RETURN_VERDICT_LABELS = {
    "quality_problem": _l("A quality problem of our product"),
    "misuse": _l("Damage from use or handling"),
    "no_fault": _l("No fault found"),
}
PART_ORIGINS = ("self_made", "purchased")
PART_ORIGIN_LABELS = {"self_made": _l("Self-made part"), "purchased": _l("Purchased part")}

# --- the timeline ---------------------------------------------------------------------------

# Transitions record ``transition.<name>`` and read as the workflow's label; these are the
# other kinds, as staff read them.
EVENT_LABELS = {
    "submitted": _l("Complaint received"),
    "filed_by_staff": _l("Recorded by staff"),
    "classified": _l("Classified"),
    "verification.checklist": _l("Verification checklist saved"),
    "onsite.visit": _l("On-site visit recorded"),
    "problem.linked": _l("Linked to a problem"),
    "action.added": _l("Action added"),
    "action.done": _l("Action done"),
    "root_cause.recorded": _l("Root cause recorded"),
    "effectiveness.verified": _l("Actions verified effective"),
    "request.created": _l("Request created"),
    "request.approval": _l("Approval signed"),
    "request.shipped": _l("Goods shipped"),
    "request.received": _l("Returned goods received"),
    "request.paid": _l("Claim paid"),
    "cost.added": _l("Cost recorded"),
    "cost.corrected": _l("Cost corrected"),
    "cost.voided": _l("Cost voided"),
    "serial.installed": _l("Installation date recorded"),
    "eight_d.started": _l("8D report started"),
    "eight_d.section": _l("8D section written"),
    "eight_d.summary": _l("8D summary for the customer"),
    "eight_d.member": _l("8D team changed"),
    "eight_d.signed": _l("8D signed off by a team member"),
    "eight_d.sent": _l("8D report sent to the customer"),
    "eight_d.containment_checked": _l("Containment effect verified"),
    "effectiveness.recurrence_check": _l("Recurrence check recorded"),
    "contact_linked": _l("Linked to the customer's account"),
    "email.reply": _l("Customer replied by e-mail"),
    "email.files": _l("Files received by e-mail"),
    "photo.rejected": _l("Photo refused"),
    "report.opened": _l("Escalation report opened"),
    "survey.scheduled": _l("Satisfaction survey scheduled"),
    "survey.answered": _l("Satisfaction survey answered"),
    "survey.low_score": _l("Low satisfaction score: follow-up opened"),
    "deadline.warning": _l("Deadline near: owner warned"),
    "deadline.breached": _l("Deadline missed: escalated"),
    "deadline.escalated": _l("Deadline missed: escalated again"),
    # supplier corrective action requests (portal/suppliers/requests.py)
    "supplier_request.opened": _l("Corrective action request sent to the supplier"),
    "supplier_request.link_sent": _l("New link sent to the supplier"),
    "supplier_request.link_revoked": _l("Supplier link revoked"),
    "supplier_request.answered": _l("Supplier answered the corrective action request"),
    "supplier_request.accepted": _l("Supplier answer accepted"),
    "supplier_request.rejected": _l("Supplier answer rejected"),
    "supplier_request.parts_delivered": _l("Replacement parts delivered by the supplier"),
    "supplier_request.charged_back": _l("Cost charged back to the supplier"),
    "supplier_request.closed": _l("Corrective action request closed"),
    "supplier_request.overdue": _l("Supplier answer overdue"),
    # returns and exchanges (portal/returns/)
    "return.opened": _l("Return record opened (RMA)"),
    "return.received": _l("Returned goods received into quarantine"),
    "return.analysed": _l("First analysis of the returned goods"),
    "return.appraised": _l("Returned goods appraised"),
    "return.scrapped": _l("Purchased reject scrapped as material waste"),
    "return.issued": _l("Good parts issued against the appraisal"),
    "return.closed": _l("Return closed"),
}
# The kinds the customer sees, in the customer's words.
CUSTOMER_EVENT_LABELS = {
    "submitted": _l("Complaint received"),
    "contact_linked": _l("Linked to your account"),
    "action.added": _l("Immediate measure"),
    "eight_d.summary": _l("8D report summary"),
    "eight_d.sent": _l("8D report ready to download"),
    "request.created": _l("Your request is being handled"),
    "request.approval": _l("Decision on your request"),
    # staff notes someone chose to show the customer (portal/complaints/audience.py)
    "verification.checklist": _l("Note from our verification"),
    "onsite.visit": _l("On-site visit"),
    "action.done": _l("Immediate measure done"),
    "request.shipped": _l("Goods shipped (tracking number)"),
    "request.received": _l("Returned goods received"),
    "request.paid": _l("Claim paid"),
    "photo.rejected": _l("Photo refused"),
    "email.reply": _l("Your e-mail"),
    "return.opened": _l("Return number issued"),
    "return.received": _l("Returned goods received"),
    "return.appraised": _l("Returned goods examined"),
    "return.issued": _l("Good parts sent"),
}

# What a transition's button says in the workspace (the workflow's own labels are written for
# the timeline); "answer" and "not_effective" have forms of their own.
TRANSITION_BUTTON_LABELS = {
    "start_verification": _l("Start verification"),
    "request_information": _l("Ask the customer"),
    "resume_verification": _l("Resume verification"),
    "accept": _l("Confirm as a quality case"),
    "reject": _l("Not our product's problem: close with this explanation"),
    "start_containment": _l("Start containment"),
    "start_analysis": _l("Start root-cause analysis"),
    "start_corrective_action": _l("Start corrective actions"),
    "submit_for_verification": _l("Actions done: verify effectiveness"),
    "close": _l("Close"),
    "reopen": _l("Reopen"),
}


def transition_label(name: str):
    """The timeline's words for transition ``name`` (the first transition of that name)."""
    from .workflow import TRANSITIONS

    return next((t.label for t in TRANSITIONS if t.name == name), None)


def event_label(kind: str, *, customer: bool = False):
    """How a timeline entry of ``kind`` reads, for staff or (``customer=True``) the customer.
    Unknown kinds read as a plain "Update" (tests/portal/test_rules_homes.py finds them)."""
    if kind.startswith("transition."):
        label = transition_label(kind.partition(".")[2])
        if label is not None:
            return label
    labels = CUSTOMER_EVENT_LABELS if customer else EVENT_LABELS
    return labels.get(kind) or _l("Update")  # never the code itself


def button_label(name: str):
    """What the workspace's button for transition ``name`` says."""
    return TRANSITION_BUTTON_LABELS.get(name) or transition_label(name) or name


# --- satisfaction surveys (portal/surveys/): after a complaint, or a campaign's ------------

SURVEY_KINDS = ("campaign", "complaint")
SURVEY_KIND_LABELS = {"campaign": _l("Campaign survey"), "complaint": _l("Complaint survey")}

# --- photos ---------------------------------------------------------------------------------

# Why the photo pipeline (portal/imaging.py) refused a file: stored as these English
# sentences on the photo and its timeline entry, shown in the reader's language.
PHOTO_NOT_IMAGE = "This file is not a photo we can read."
PHOTO_FORMAT = "This image format is not accepted. Send a JPEG, PNG, HEIC or WebP photo."
PHOTO_TOO_LARGE = "This image has too many pixels to be processed safely."
PHOTO_DAMAGED = "This photo is damaged or incomplete. Send it again."
PHOTO_REJECTION_LABELS = {
    PHOTO_NOT_IMAGE: _l("This file is not a photo we can read."),
    PHOTO_FORMAT: _l("This image format is not accepted. Send a JPEG, PNG, HEIC or WebP photo."),
    PHOTO_TOO_LARGE: _l("This image has too many pixels to be processed safely."),
    PHOTO_DAMAGED: _l("This photo is damaged or incomplete. Send it again."),
}

# The tables templates name through the ``label`` filter: ``{{ r.status|label("request") }}``.
LABEL_TABLES = {
    "status": STAFF_STATE_LABELS, "customer_status": CUSTOMER_STATE_LABELS,
    "severity": SEVERITY_LABELS, "cause": CAUSE_LABELS, "action": ACTION_LABELS,
    "request": REQUEST_LABELS, "request_state": REQUEST_STATE_LABELS, "role": ROLE_LABELS,
    "cost": COST_LABELS, "report_kind": REPORT_KIND_LABELS, "report_state": REPORT_STATE_LABELS,
    "photo_rejection": PHOTO_REJECTION_LABELS, "channel": CHANNEL_LABELS,
    "demand": DEMAND_LABELS, "customer_demand": CUSTOMER_DEMAND_LABELS, "carrier": CARRIER_LABELS,
}
# What a classification changes (a "classified" timeline entry lists the fields it set).
CLASSIFIED_FIELD_LABELS = {
    "severity": _l("Severity"), "info_class": _l("Information class"),
    "cause_category": _l("Cause category"), "failure_mode_id": _l("Failure mode"),
    "responsible_department_id": _l("Responsible department"), "owner_id": _l("Owner"),
}
LABEL_TABLES["classified_field"] = CLASSIFIED_FIELD_LABELS


def label(value, table: str):
    """``value``'s words from the vocabulary table ``table`` (a value it does not know, such
    as a reason typed elsewhere, is shown as it is)."""
    if value is None:
        return ""
    return LABEL_TABLES[table].get(value, value)


def event_text(event) -> str | None:
    """A timeline entry's message as its reader sees it: the stored reason of a refused
    photo in the reader's language, anything else as written."""
    if event.kind == "photo.rejected" and event.message in PHOTO_REJECTION_LABELS:
        return PHOTO_REJECTION_LABELS[event.message]
    return event.message
