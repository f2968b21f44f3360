import { openAiEndpoint } from './openai-endpoint';

const bearer = { authorization: 'Bearer gg-x' };

describe('which requests take the OpenAI path', () => {
  it.each([
    ['POST', '/v1/chat/completions', bearer, { kind: 'chat' }],
    ['POST', '/v1/chat/completions?x=1', { 'x-goog-api-key': 'k' }, { kind: 'chat' }],
    ['POST', '/v1/embeddings', bearer, { kind: 'embeddings' }],
    ['GET', '/v1/chat/completions', bearer, { kind: 'method-not-allowed', allow: 'POST' }],
    ['GET', '/v1/models', bearer, { kind: 'models' }],
    ['GET', '/v1/models/gemini-2.5-flash', bearer, { kind: 'model', id: 'gemini-2.5-flash' }],
    // the Gemini SDK and native callers keep the native answer
    ['GET', '/v1/models', { ...bearer, 'x-goog-api-key': 'k' }, null],
    ['GET', '/v1/models', { 'x-goog-api-key': 'k' }, null],
    ['GET', '/v1/models?key=k', bearer, null],
    ['GET', '/v1/models?pageSize=5&key=k', {}, null],
    ['GET', '/v1/models', {}, null],
    ['POST', '/v1/models/gemini-2.5-flash:generateContent', bearer, null],
    ['GET', '/v1/models/gemini-2.5-flash%3AgenerateContent', bearer, null],
    ['GET', '/v1/modelsx', bearer, null],
    ['GET', '/v1/files', bearer, null],
  ])('%s %s %j', (method, url, headers, expected) => expect(openAiEndpoint(method, url, headers)).toEqual(expected));
});
