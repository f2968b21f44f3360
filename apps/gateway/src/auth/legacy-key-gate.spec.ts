import { Logger } from '@nestjs/common';
import { AuthPattern } from '@gg/contracts';
import { LegacyKeyGate } from './legacy-key-gate';

describe('LegacyKeyGate', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('accepts legacy keys until auth says none are left, and keeps the last answer when auth does not answer', async () => {
    let answer: unknown = { legacyKeys: 2 };
    const asked: string[] = [];
    const gate = new LegacyKeyGate({
      send: async <T>(pattern: string): Promise<T> => {
        asked.push(pattern);
        if (answer instanceof Error) throw answer;
        return answer as T;
      },
    });
    expect(gate.accepting).toBe(true);
    await gate.refresh();
    expect(gate.accepting).toBe(true);
    answer = { legacyKeys: 0 };
    await gate.refresh();
    expect(gate.accepting).toBe(false);
    answer = new Error('timeout');
    await gate.refresh();
    expect(gate.accepting).toBe(false);
    gate.stop();
    expect(asked).toEqual([AuthPattern.KeyLegacyCount, AuthPattern.KeyLegacyCount, AuthPattern.KeyLegacyCount]);
  });
});
