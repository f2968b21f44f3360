export * from './mock-gemini';
export * from './stack/stack';
export * from './stack/ports';
export * from './poll';
export * from './redis';
export * from './proxy-servers';
