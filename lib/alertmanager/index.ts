export { Alertmanager, ALERTMANAGER_IMAGE, ALERTMANAGER_DEFAULT_RESOURCES, DEFAULT_INHIBIT_RULES } from './alertmanager';
export type { AlertmanagerProps } from './alertmanager';
export type { Route, Receiver, InhibitRule, WebhookConfig, SlackConfig, EmailConfig, PagerdutyConfig } from './config';
export { alertmanagerRuleGroup } from './rules';
