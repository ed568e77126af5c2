/**
 * The largest magnitude a feature value may have (the contract): scikit-learn's tree models compute in float32, where
 * anything larger becomes infinity, so the Flask service reports it as not_finite, and so does the gateway.
 */
export const MAX_MAGNITUDE = 3.4028234663852886e38;
