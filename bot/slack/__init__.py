"""The Slack adapter: Bolt listeners (events, commands, actions) over the platform-neutral core.
No Slack object crosses into bot/assistant or bot/store."""
