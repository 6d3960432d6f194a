"""The CPU experiment: do artists learn to paint subjects they never painted? Synthetic artists with held-out
pairs, the paper's recipe and its alternatives, and two judges fixed before any painting was looked at."""
