"""model.config: config.json as a read-mostly mapping with attribute access, as transformers' PretrainedConfig."""


class PretrainedConfig:
    def __init__(self, values):
        d = dict(values)
        if "id2label" in d and isinstance(d["id2label"], dict):
            d["id2label"] = {int(k): v for k, v in d["id2label"].items()}
        if "label2id" in d and isinstance(d["label2id"], dict):
            d["label2id"] = {k: int(v) for k, v in d["label2id"].items()}
        object.__setattr__(self, "_values", d)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"config has no attribute {name!r}") from None

    def __setattr__(self, name, value):
        self._values[name] = value

    def __getitem__(self, key):
        return self._values[key]

    def __contains__(self, key):
        return key in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    def get(self, key, default=None):
        return self._values.get(key, default)

    def keys(self):
        return self._values.keys()

    def items(self):
        return self._values.items()

    def to_dict(self):
        return dict(self._values)

    @property
    def num_labels(self):
        return len(self._values.get("id2label") or {}) or self._values.get("num_labels", 2)

    def __repr__(self):
        return f"PretrainedConfig({self._values!r})"
