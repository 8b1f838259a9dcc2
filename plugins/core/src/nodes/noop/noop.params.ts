/** No settings; a class (rather than none) so that unknown keys are rejected as typos. */
export class NoopParams {}
