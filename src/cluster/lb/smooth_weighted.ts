/**
 * Smooth weighted round robin (nginx's): every pick adds each weight to its host's running
 * score, takes the highest, and lowers it by the total. A host of weight 8 among 8:3:1 gets
 * its turns spread over the cycle rather than in a burst. Weights may change between picks
 * (slow start, least request's load-scaled weights): the scores carry over.
 */
export function smoothWeightedPick(weights: Float64Array, scores: Float64Array): number {
  let best = 0;
  let total = 0;
  const n = weights.length;
  for (let i = 0; i < n; i++) {
    const s = scores[i] + weights[i];
    scores[i] = s;
    total += weights[i];
    if (s > scores[best]) best = i;
  }
  scores[best] -= total;
  return best;
}
