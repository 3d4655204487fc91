"""Subcontracting approval requests: risk, who decides, the lifecycle, reminders, the audit trail."""
