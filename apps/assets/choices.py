"""Choices for the asset registry."""

from django.db import models


class EnrolmentStatus(models.TextChoices):
    """Enrolment life cycle of a site: draft → submitted → approved | rejected → active → suspended."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


#: Statuses in which the owner may still edit a site and its assets.
EDITABLE_STATUSES = frozenset({EnrolmentStatus.DRAFT, EnrolmentStatus.REJECTED})


class EnrolmentAction(models.TextChoices):
    SUBMIT = "submit", "Submit"
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    ACTIVATE = "activate", "Activate"
    SUSPEND = "suspend", "Suspend"


class WorkloadKind(models.TextChoices):
    """Kinds of datacenter compute. Inference is latency-critical (not deferrable); the others may be."""

    INFERENCE = "inference", "Inference"
    TRAINING = "training", "Training"
    BATCH = "batch", "Batch"
    HPC = "hpc", "HPC"
