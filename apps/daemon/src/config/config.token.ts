/** DI token of the validated AnchorflowConfig (provided as a value by AppModule.forRoot). */
export const APP_CONFIG = Symbol('APP_CONFIG');
