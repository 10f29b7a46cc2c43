"""Neural few-shot baselines, meta-trained on the benchmark's own train episodes and shipped with weights.

* ``protonet`` (:class:`~agents.neural.agent.ProtoNetAgent`): CURI's prototypical network
  ("CURI-B"): an image encoder trained from scratch (ResNet-18 cut after layer3, or a CPU-sized
  conv4) or CURI's schema encoder for object tables, one of CURI's pooling heads (gap, rel_net,
  transformer), prototypes as class means, squared-Euclidean logits.
* ``transformer`` (:class:`~agents.neural.agent.TransformerAgent`): a BERT encoder (HF
  ``transformers`` classes configured from scratch) over the labelled support set and each query.
* ``ppo`` (:class:`~agents.neural.ppo.PPOAgent`): stable-baselines3 PPO on the sequential mode with
  a few-shot features extractor (:class:`~agents.neural.ppo.FewShotExtractor`).

Train with ``pix2code train protonet|transformer|ppo --env ID --out DIR`` (:mod:`agents.neural.train`);
shipped weights and their JSON cards live in ``agents/neural/weights/``.
Modules: ``spec`` (what weights are for), ``encoders``/``pooling``/``models`` (networks),
``inputs`` (observation checks), ``weights`` (files and cards), ``agent``/``ppo`` (agents),
``data`` (episode chunks), ``config``/``runs``/``train``/``ppo_train`` (training).
"""
