export const CONFLICT_LABELS = { ours: 'your version', base: 'generated before', theirs: 'generated now' };
