"""Microsoft Teams adapter (Bot Framework): inbound activities are authenticated
(bot/teams/auth.py) before their body is read into typed models (bot/teams/schema.py); replies go
to the Bot Connector with a client-credentials token (auth.ConnectorTokens)."""
