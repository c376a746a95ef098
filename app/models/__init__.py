"""The canonical base-data model. Every table is imported here so the metadata is complete."""

from app.models.access import ApiToken, AuditEvent, DepartmentGrant, LoginFailure, UserSession
from app.models.area import Area
from app.models.base import metadata
from app.models.codelist import CodeItem, CodeList
from app.models.history import ChangeBatch, ChangeLog
from app.models.house import House, HouseHistory
from app.models.imports import (
    FlowbackAlert,
    ImportBatch,
    ImportConflict,
    ImportFile,
    ImportJob,
    ImportJobFile,
)
from app.models.observation import Observation, ObservationItem
from app.models.organisation import Organisation, OrganisationHistory
from app.models.person import Household, HouseholdHistory, Person, PersonHistory
from app.models.report import IndicatorDefinition, ReportDefinition, ReportDownload
from app.models.tag import Tag, TagType
from app.models.task import CollectionTask, TaskEvent, TaskVillage
from app.models.user import User
from app.models.workbook import WorkbookDownload, WorkbookUpload

# Effective-dated entities: current table → history table. The history service works from this.
VERSIONED = {
    "person": (Person, PersonHistory),
    "household": (Household, HouseholdHistory),
    "house": (House, HouseHistory),
    "organisation": (Organisation, OrganisationHistory),
}

__all__ = [
    "VERSIONED",
    "ApiToken",
    "AuditEvent",
    "DepartmentGrant",
    "FlowbackAlert",
    "ImportBatch",
    "ImportConflict",
    "ImportFile",
    "LoginFailure",
    "UserSession",
    "Area",
    "ChangeBatch",
    "ChangeLog",
    "CollectionTask",
    "CodeItem",
    "CodeList",
    "FlowbackAlert",
    "ImportBatch",
    "ImportConflict",
    "ImportFile",
    "ImportJob",
    "ImportJobFile",
    "House",
    "IndicatorDefinition",
    "HouseHistory",
    "Household",
    "HouseholdHistory",
    "Observation",
    "ObservationItem",
    "Organisation",
    "OrganisationHistory",
    "Person",
    "PersonHistory",
    "ReportDefinition",
    "ReportDownload",
    "Tag",
    "TagType",
    "TaskEvent",
    "TaskVillage",
    "User",
    "WorkbookDownload",
    "WorkbookUpload",
    "metadata",
]
