export { startMockGemini } from './server';
export type { MockGemini, MockGeminiOptions, MockMethod, RecordedRequest, ScriptBehaviour, ScriptRule } from './types';
