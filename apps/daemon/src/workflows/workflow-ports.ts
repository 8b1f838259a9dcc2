import type { Engine } from '@anchorflow/engine';
import type { EventBus } from '@nestjs/cqrs';
import type { TriggerRegistry } from '../triggers/trigger-registry.service.js';

/** What the workflow handlers need from their collaborators (narrow, so specs can pass fakes). */
export type WorkflowValidator = Pick<Engine, 'validate'>;
export type WorkflowTriggers = Pick<TriggerRegistry, 'assertCanActivate' | 'apply' | 'remove'>;
export type EventPublisher = Pick<EventBus, 'publish'>;
