/** DI token of the root pino logger created in main.ts before Nest starts. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
