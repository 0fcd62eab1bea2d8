from dataclasses import dataclass
class BaseOutput:
    def __getitem__(self, i): return list(self.__dict__.values())[i]
def is_scipy_available(): return True
def deprecate(*a, **k): pass
class logging:
    @staticmethod
    def get_logger(name):
        class L:
            def warning(self, *a, **k): pass
            def info(self, *a, **k): pass
        return L()
