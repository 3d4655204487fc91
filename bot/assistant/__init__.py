"""Core: answer a question (retrieve -> compose -> cite). Platform-neutral: no Slack here."""
