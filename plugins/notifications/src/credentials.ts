import type { CredentialTypeDefinition } from '@anchorflow/plugin-sdk';

/** The vault types this plugin declares: POST /api/v1/credentials validates `data` against `fields`. */
export const smtpCredential: CredentialTypeDefinition = {
  type: 'smtp',
  title: 'SMTP server',
  secretFields: ['password'],
  fields: {
    host: { type: 'string', description: 'SMTP server host name or address' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    security: { type: 'string', enum: ['tls', 'starttls', 'none'], description: '`tls`: TLS from the first byte (port 465); `starttls`: upgrade required (587); `none`: plain text (loopback relays only)' },
    user: { type: 'string', required: false },
    password: { type: 'string', required: false, secret: true },
    from: { type: 'string', format: 'email', description: 'sender address, e.g. `Anchorflow <alerts@example.com>`' },
    rejectUnauthorized: { type: 'boolean', required: false, description: 'verify the server certificate (default true); false only for self-signed test servers' },
  },
};

export const slackWebhookCredential: CredentialTypeDefinition = {
  type: 'slack-webhook',
  title: 'Slack incoming webhook',
  secretFields: ['url'],
  fields: { url: { type: 'string', format: 'url', secret: true, description: 'https://hooks.slack.com/services/… (the URL is the secret)' } },
};

export const discordWebhookCredential: CredentialTypeDefinition = {
  type: 'discord-webhook',
  title: 'Discord webhook',
  secretFields: ['url'],
  fields: { url: { type: 'string', format: 'url', secret: true, description: 'https://discord.com/api/webhooks/<id>/<token>' } },
};

export const telegramBotCredential: CredentialTypeDefinition = {
  type: 'telegram-bot',
  title: 'Telegram bot',
  secretFields: ['token'],
  fields: {
    token: { type: 'string', secret: true, description: 'the bot token from @BotFather' },
    apiBase: { type: 'string', format: 'url', required: false, description: 'Bot API base URL (default https://api.telegram.org)' },
  },
};

export const hmacSecretCredential: CredentialTypeDefinition = {
  type: 'hmac-secret',
  title: 'HMAC signing secret',
  secretFields: ['secret'],
  fields: { secret: { type: 'string', secret: true, description: 'shared secret for X-Anchorflow-Signature (at least 16 characters recommended)' } },
};

export const notificationCredentials = [smtpCredential, slackWebhookCredential, discordWebhookCredential, telegramBotCredential, hmacSecretCredential];
