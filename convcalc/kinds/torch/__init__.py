"""PyTorch's layer kinds, one module per family, each registering its words (and
PyTorch class names) with the registry in :mod:`convcalc.kinds.torch.registry`. A module is
imported the first time one of its words is used (:mod:`.index`)."""
