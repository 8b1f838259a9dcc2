import { definePlugin } from '@anchorflow/plugin-sdk';
import { notificationCredentials } from './credentials.js';
import { discordNode } from './nodes/discord/discord.node.js';
import { emailNode } from './nodes/email/email.node.js';
import { slackNode } from './nodes/slack/slack.node.js';
import { telegramNode } from './nodes/telegram/telegram.node.js';
import { webhookNode } from './nodes/webhook/webhook.node.js';

export { discordNode, emailNode, slackNode, telegramNode, webhookNode };
export * from './credentials.js';
export { closeSmtpTransports } from './nodes/email/smtp-transports.js';
export { deliveryKey, type DeliveryOutput, type DeliveryRecord } from './shared/delivery.js';
export { DiscordParams } from './nodes/discord/discord.params.js';
export { EmailParams } from './nodes/email/email.params.js';
export { SlackParams } from './nodes/slack/slack.params.js';
export { TelegramParams } from './nodes/telegram/telegram.params.js';
export { WebhookParams } from './nodes/webhook/webhook.params.js';

export default definePlugin({
  name: '@anchorflow/plugin-notifications',
  version: '0.1.0',
  nodes: [emailNode, slackNode, discordNode, telegramNode, webhookNode],
  credentials: notificationCredentials,
});
