"""The autoregressive decoder: a from-scratch HF GPT-2 with cross-attention, and its token heads.

The decoder reads the encoder's candidate tokens (its cross-attention memory) and writes the
object sequence token by token (:mod:`agents.pix2code.perception.spec`). Its heads are a
pointer–generator, as in copy-mechanism seq2seq models: at every position a pointer (attention
of the hidden state over the candidates) says which candidate the current object is; the token's
distribution is the pointed candidate's dense estimate (Gaussian or logits) plus a correction
generated from the hidden state (zero at initialisation). The hidden state also decides, at
every object start, whether the sequence ends. So the decoder learns the parts a per-cell
detector cannot: which peaks are objects, their order, merging duplicate peaks, and context.

Training runs GPT-2's own ``forward`` on whole teacher-forced sequences. Inference runs
:meth:`Decoder.step`, a lean incremental re-implementation of the same blocks with
pre-allocated key/value caches (GPT-2's generic cache path costs ~7 ms a token in Python
overhead, too slow for 100 images/s); a test checks that both give the same numbers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPT2Config, GPT2Model

from agents.pix2code.perception.spec import FamilySpec

N_FREQ = 8


def fourier(t: torch.Tensor) -> torch.Tensor:
    """Features of values in [0, 1]: the value and sin/cos at 8 octaves."""
    f = (2.0 ** torch.arange(N_FREQ, dtype=t.dtype, device=t.device)) * math.pi
    x = t.unsqueeze(-1) * f
    return torch.cat([t.unsqueeze(-1), x.sin(), x.cos()], dim=-1)


class Decoder(nn.Module):
    def __init__(self, spec: FamilySpec, memory_dim: int, max_candidates: int, d: int = 128, layers: int = 2,
                 heads: int = 4) -> None:
        super().__init__()
        self.spec = spec
        config = GPT2Config(
            n_embd=d, n_layer=layers, n_head=heads, n_inner=2 * d, n_positions=spec.max_tokens, vocab_size=1,
            add_cross_attention=True, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0,
        )
        config._attn_implementation = "sdpa"
        self.gpt = GPT2Model(config)
        self.memory = nn.Sequential(nn.Linear(memory_dim, d), nn.LayerNorm(d))
        self.candidate_index = nn.Embedding(max_candidates, d)  # candidates are listed left to right
        self.context = nn.Linear(d, d)  # the candidate the sequence is at, fed back as input
        self.no_context = nn.Parameter(torch.zeros(d))
        S = spec.n_slots
        self.bos = nn.Parameter(torch.zeros(d))
        self.slot_embedding = nn.Embedding(S, d)
        self.coord_embedding = nn.Linear(1 + 2 * N_FREQ, d)
        offsets, total = [], 0
        for slot in spec.slots:
            offsets.append(total)
            total += slot.size
        self.class_embedding = nn.Embedding(max(total, 1), d)
        self.register_buffer("class_offset", torch.tensor(offsets), persistent=False)
        self.register_buffer("is_coord", torch.tensor([s.kind == "coord" for s in spec.slots]), persistent=False)
        extent = [float(spec.image_shape[1] if s.axis == "x" else spec.image_shape[0]) for s in spec.slots]
        self.register_buffer("extent", torch.tensor(extent), persistent=False)
        n_num, n_logits = len(spec.numerics), sum(spec.class_sizes)
        self.pointer_q = nn.Linear(d, d)
        self.pointer_k = nn.Linear(d, d)
        self.delta_mu = nn.Linear(d, n_num)
        self.delta_log_sigma = nn.Linear(d, n_num)
        self.delta_logits = nn.Linear(d, n_logits)
        for layer in (self.delta_mu, self.delta_log_sigma, self.delta_logits):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.stop = nn.Linear(d, 1)
        self.register_buffer("scale", torch.tensor([n.scale for n in spec.numerics]), persistent=False)
        self.d, self.n_layers, self.n_heads = d, layers, heads

    # -- inputs
    def embed(self, prev_slot: torch.Tensor, prev_value: torch.Tensor) -> torch.Tensor:
        """Embeddings of previous tokens: (B, T) slot indices (-1: the start token) and values
        (pixel coordinates or class / bin codes)."""
        slot = prev_slot.clamp_min(0)
        coord = self.is_coord[slot]
        value = prev_value.float()
        cls = torch.where(coord, torch.zeros_like(prev_value), prev_value).long() + self.class_offset[slot]
        cls = cls.clamp(max=self.class_embedding.num_embeddings - 1)  # coordinate slots: masked below
        out = self.slot_embedding(slot) + self.class_embedding(cls) * (~coord).unsqueeze(-1)
        out = out + self.coord_embedding(fourier(value / self.extent[slot])) * coord.unsqueeze(-1)
        return torch.where((prev_slot < 0).unsqueeze(-1), self.bos.expand_as(out), out)

    def memory_tokens(self, features: torch.Tensor) -> torch.Tensor:
        """Memory tokens (B, k, d) of candidate features (B, k, memory_dim) in list order."""
        index = torch.arange(features.shape[1], device=features.device)
        return self.memory(features) + self.candidate_index(index)

    def contextualise(self, embeds: torch.Tensor, memory: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Add to input embeddings (B, T, d) the memory token of the candidate the sequence is at:
        ``index`` (B, T) — the previous object's at an object start, the current object's
        elsewhere, -1 before the first object (as pointer networks feed back their choice)."""
        picked = memory.gather(1, index.clamp_min(0).unsqueeze(-1).expand(-1, -1, memory.shape[-1]))
        ctx = torch.where((index >= 0).unsqueeze(-1), self.context(picked), self.no_context.expand_as(picked))
        return embeds + ctx

    # -- outputs
    def heads(self, hidden: torch.Tensor, memory: torch.Tensor, cand: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Token distributions' parameters at every position (B, T, ·) from hidden states."""
        keys = self.pointer_k(memory)
        ptr = torch.einsum("btd,bkd->btk", self.pointer_q(hidden), keys) / math.sqrt(self.d)
        p = ptr.softmax(dim=-1)
        mu = torch.einsum("btk,bkn->btn", p, cand["mu"]) + self.scale * self.delta_mu(hidden)
        log_sigma = torch.einsum("btk,bkn->btn", p, cand["log_sigma"]) + self.delta_log_sigma(hidden)
        logits = torch.einsum("btk,bkn->btn", p, cand["logits"]) + self.delta_logits(hidden)
        return {"pointer": ptr, "mu": mu, "log_sigma": log_sigma.clamp(-8.0, 4.0), "logits": logits,
                "stop": self.stop(hidden).squeeze(-1)}

    def forward(self, embeds: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Teacher-forced hidden states (B, T, d) with GPT-2's own forward."""
        return self.gpt(inputs_embeds=embeds, encoder_hidden_states=memory, use_cache=False).last_hidden_state

    # -- fast incremental inference
    def start(self, memory: torch.Tensor, max_len: int) -> dict:
        """Per-layer cross-attention keys/values, empty self-attention caches and pointer keys."""
        B, K, d = memory.shape
        H, hd = self.n_heads, d // self.n_heads
        state = {"cross": [], "self": [], "t": 0, "keys": self.pointer_k(memory).transpose(1, 2) / math.sqrt(self.d)}
        state["mask"] = torch.full((max_len,), float("-inf"))
        for block in self.gpt.h:
            k, v = block.crossattention.c_attn(memory).split(d, dim=2)
            state["cross"].append((k.view(B, K, H, hd).permute(0, 2, 3, 1), v.view(B, K, H, hd).transpose(1, 2)))
            state["self"].append((memory.new_zeros(B, H, hd, max_len), memory.new_zeros(B, H, max_len, hd)))
        return state

    def step(self, embed: torch.Tensor, state: dict) -> torch.Tensor:
        """Hidden state (B, d) of the next position given its input embedding (B, d)."""
        t = state["t"]
        B, d = embed.shape
        H, hd = self.n_heads, d // self.n_heads
        mask = state["mask"]
        mask[t] = 0.0
        h = embed + self.gpt.wpe.weight[t]
        for i, block in enumerate(self.gpt.h):
            attn, cross = block.attn, block.crossattention
            x = block.ln_1(h)
            q, k, v = torch.addmm(attn.c_attn.bias, x, attn.c_attn.weight).split(d, dim=1)
            kc, vc = state["self"][i]
            kc[:, :, :, t] = k.view(B, H, hd)
            vc[:, :, t] = v.view(B, H, hd)
            h = h + torch.addmm(attn.c_proj.bias, _attend(q.view(B, H, 1, hd), kc, vc, attn.scaling, mask), attn.c_proj.weight)
            x = block.ln_cross_attn(h)
            q = torch.addmm(cross.q_attn.bias, x, cross.q_attn.weight).view(B, H, 1, hd)
            ck, cv = state["cross"][i]
            h = h + torch.addmm(cross.c_proj.bias, _attend(q, ck, cv, cross.scaling), cross.c_proj.weight)
            mlp = block.mlp
            x = mlp.act(torch.addmm(mlp.c_fc.bias, block.ln_2(h), mlp.c_fc.weight))
            h = h + torch.addmm(mlp.c_proj.bias, x, mlp.c_proj.weight)
        state["t"] = t + 1
        return self.gpt.ln_f(h)

    def select(self, state: dict, keep: torch.Tensor) -> None:
        """Keep only the rows ``keep`` (bool, B) of a decoding state."""
        state["keys"] = state["keys"][keep]
        state["cross"] = [(k[keep], v[keep]) for k, v in state["cross"]]
        state["self"] = [(k[keep], v[keep]) for k, v in state["self"]]

    def pointer(self, hidden: torch.Tensor, state: dict) -> torch.Tensor:
        """Pointer logits (B, K) of hidden states (B, d)."""
        return (self.pointer_q(hidden).unsqueeze(1) @ state["keys"]).squeeze(1)


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scaling: float, mask: torch.Tensor | None = None) -> torch.Tensor:
    """One query per row: (B, H, 1, hd) against keys (B, H, hd, t) and values (B, H, t, hd) → (B, H * hd)."""
    scores = (q @ k) * scaling
    if mask is not None:
        scores = scores + mask
    out = F.softmax(scores, dim=-1) @ v
    return out.reshape(out.shape[0], -1)
