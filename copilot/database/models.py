"""Every table, imported in one place so Alembic and tests see the whole schema."""

from copilot.audit.models import AuditRead
from copilot.auth.models import ApiKey, Tenant
from copilot.customers.models import Customer, CustomerMerge, Identity
from copilot.database.core import Base
from copilot.integrations.models import ConnectorConfig, ConnectorStats, WebhookDelivery
from copilot.interactions.models import IndexOutbox, Interaction
from copilot.knowledge.models import Article, Chunk
from copilot.suggestions.models import Suggestion

__all__ = [
    "ApiKey",
    "AuditRead",
    "Article",
    "Base",
    "Chunk",
    "ConnectorConfig",
    "ConnectorStats",
    "Customer",
    "CustomerMerge",
    "Identity",
    "IndexOutbox",
    "Interaction",
    "Suggestion",
    "Tenant",
    "WebhookDelivery",
]
