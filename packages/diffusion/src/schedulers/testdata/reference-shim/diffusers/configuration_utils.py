import functools, inspect

class Config(dict):
    def __getattr__(self, k):
        try: return self[k]
        except KeyError: raise AttributeError(k)

class ConfigMixin:
    def register_to_config(self, **kwargs):
        if not hasattr(self, '_internal_dict'): self._internal_dict = Config()
        self._internal_dict.update(kwargs)
    @property
    def config(self): return self._internal_dict

def register_to_config(init):
    @functools.wraps(init)
    def inner(self, *args, **kwargs):
        sig = inspect.signature(init)
        params = {k: p.default for k, p in sig.parameters.items() if k != 'self' and p.default is not inspect.Parameter.empty}
        params.update(kwargs)
        self.register_to_config(**params)
        init(self, *args, **kwargs)
    return inner
