# The corpus of answers to `my_softmax_cross_entropy` (notebook 07); headers as in
# nb00_to_channels_first.py.

# %% log_of_shifted_probabilities · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(probs[np.arange(n), labels]).mean()
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return loss, dlogits / n

# %% no_shift · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    with np.errstate(all="ignore"):
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        n = len(labels)
        dlogits = probs.copy()
        dlogits[np.arange(n), labels] -= 1
        return -np.log(probs[np.arange(n), labels]).mean(), dlogits / n

# %% gradient_not_divided_by_n · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(labels)
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return -np.log(probs[np.arange(n), labels]).mean(), dlogits

# %% float32_loss · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(labels)
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return np.float32(-np.log(probs[np.arange(n), labels]).mean()), dlogits / n

# %% a_0d_array_loss · expect: passed
def my_softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = np.array(-log_probs[np.arange(n), labels].sum() / n)
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1
    return loss, dlogits / n

# %% one_hot_with_eye · expect: passed
def my_softmax_cross_entropy(logits, labels):
    one_hot = np.eye(logits.shape[1])[labels]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -(one_hot * log_probs).sum() / len(labels)
    return loss, (np.exp(log_probs) - one_hot) / len(labels)

# %% loop_over_samples_with_math · expect: passed
def my_softmax_cross_entropy(logits, labels):
    n = len(labels)
    dlogits, total = np.zeros(logits.shape), 0.0
    for row in range(n):
        shifted = logits[row] - logits[row].max()
        total += math.log(np.exp(shifted).sum()) - shifted[labels[row]]
        dlogits[row] = np.exp(shifted) / np.exp(shifted).sum()
        dlogits[row, labels[row]] -= 1
    return total / n, dlogits / n

# %% the_course_loss · expect: failed all
def my_softmax_cross_entropy(logits, labels):
    return softmax_cross_entropy(logits, labels)

# %% outputs_swapped · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(labels)
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return dlogits / n, -np.log(probs[np.arange(n), labels]).mean()

# %% tolist_gradient · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(labels)
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1
    return -np.log(probs[np.arange(n), labels]).mean(), (dlogits / n).tolist()

# %% log_sum_exp · expect: passed
def my_softmax_cross_entropy(logits, labels):
    top = logits.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    n = len(labels)
    loss = (log_norm - logits[np.arange(n), labels]).mean()
    dlogits = np.exp(logits - log_norm[:, None])
    dlogits[np.arange(n), labels] -= 1
    return loss, dlogits / n

# %% probabilities_plus_epsilon · expect: failed cases
def my_softmax_cross_entropy(logits, labels):
    one_hot = np.eye(logits.shape[1])[labels]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -(one_hot * np.log(probs + 1e-300)).sum() / len(labels)     # caps the loss at 690
    return loss, (probs - one_hot) / len(labels)
