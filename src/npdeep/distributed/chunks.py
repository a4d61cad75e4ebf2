def fit_chunks(*a, **k):
    raise NotImplementedError
