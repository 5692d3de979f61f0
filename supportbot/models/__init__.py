"""SQLModel tables. Importing this package registers every table on `SQLModel.metadata`
(Alembic and `reflex db` both read it from there)."""

from supportbot.models.audit import AuditLog
from supportbot.models.base import utcnow
from supportbot.models.conversation import (
    Conversation,
    ConversationStatus,
    Message,
    SenderType,
)
from supportbot.models.feedback import Feedback
from supportbot.models.knowledge import (
    EntrySource,
    EntryStatus,
    KnowledgeEntry,
    KnowledgeEntryVersion,
)
from supportbot.models.notification import (
    DeliveryChannel,
    DeliveryStatus,
    NotificationDelivery,
)
from supportbot.models.settings import AppSetting
from supportbot.models.suggestion import KbSuggestion, SuggestionKind, SuggestionStatus
from supportbot.models.ticket import EscalationReason, Ticket, TicketPriority, TicketStatus
from supportbot.models.user import RefreshToken, Role, User

__all__ = [
    "AppSetting",
    "AuditLog",
    "Conversation",
    "ConversationStatus",
    "DeliveryChannel",
    "DeliveryStatus",
    "EntrySource",
    "EntryStatus",
    "EscalationReason",
    "Feedback",
    "KbSuggestion",
    "KnowledgeEntry",
    "KnowledgeEntryVersion",
    "Message",
    "NotificationDelivery",
    "RefreshToken",
    "Role",
    "SenderType",
    "SuggestionKind",
    "SuggestionStatus",
    "Ticket",
    "TicketPriority",
    "TicketStatus",
    "User",
    "utcnow",
]
