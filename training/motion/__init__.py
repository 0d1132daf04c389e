"""Training the Semantic Motion Predictor, and the paper's metrics of transition clips."""
