"""On-call: schedules with rotations, escalation policies, pages and shift load."""

from __future__ import annotations

from radiator.oncall.models import (
    DEFAULT_WAIT_MINUTES,
    Contacts,
    ContactsUpdate,
    Discipline,
    EscalationPolicy,
    EscalationPolicyCreate,
    EscalationPolicyUpdate,
    EscalationStep,
    OnCall,
    Override,
    Page,
    PageCreate,
    PageStatus,
    PageTriggered,
    Participant,
    PersonLoad,
    Rotation,
    Schedule,
    ScheduleCreate,
    ScheduleUpdate,
    ServiceOnCall,
    Shift,
    ShiftLoad,
    ShiftReport,
)
from radiator.oncall.paging import Pager, token_hash
from radiator.oncall.service import EventSink, OncallService
from radiator.oncall.shifts import MAX_PAGES_PER_SHIFT, MAX_SHARE, shift_report
from radiator.oncall.store import OncallStore

__all__ = [
    "DEFAULT_WAIT_MINUTES",
    "MAX_PAGES_PER_SHIFT",
    "MAX_SHARE",
    "Contacts",
    "ContactsUpdate",
    "Discipline",
    "EscalationPolicy",
    "EscalationPolicyCreate",
    "EscalationPolicyUpdate",
    "EscalationStep",
    "EventSink",
    "OnCall",
    "OncallService",
    "OncallStore",
    "Override",
    "Page",
    "PageCreate",
    "PageStatus",
    "PageTriggered",
    "Pager",
    "Participant",
    "PersonLoad",
    "Rotation",
    "Schedule",
    "ScheduleCreate",
    "ScheduleUpdate",
    "ServiceOnCall",
    "Shift",
    "ShiftLoad",
    "ShiftReport",
    "shift_report",
    "token_hash",
]
