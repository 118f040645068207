using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MedTransfer.Training.Onnx;

/// <summary>ONNX Gemm: Y = α·A'·B' + β·C. A constant B becomes a trainable weight, a constant C its bias.</summary>
internal sealed class GemmNode : OnnxNode
{
    private readonly float _alpha;
    private readonly float _beta;
    private readonly bool _transA;
    private readonly bool _transB;
    private readonly bool _hasWeight;
    private readonly bool _hasBias;
    private readonly long[]? _biasShape;
    private readonly string? _weightName;
    private readonly string? _biasName;

    public GemmNode(NodeContext context)
        : base(context)
    {
        NodeProto node = context.Proto;
        _alpha = OnnxAttributes.Float(node, "alpha", 1f);
        _beta = OnnxAttributes.Float(node, "beta", 1f);
        _transA = OnnxAttributes.Int(node, "transA", 0) != 0;
        _transB = OnnxAttributes.Int(node, "transB", 0) != 0;
        if (context.Constant(1) is { } b)
        {
            if (b.dim() != 2)
            {
                throw context.Error(OnnxImportError.MalformedGraph, $"has a {b.dim()}-D B.");
            }

            // Stored as torch's Linear weight, [out, in].
            _hasWeight = true;
            _weightName = node.Input[1];
            register_parameter("weight", new Parameter(_transB ? b.clone() : b.t().contiguous()));
        }

        if (context.Constant(2) is { } c)
        {
            _biasShape = c.shape;
            _hasBias = true;
            _biasName = node.Input[2];
            register_parameter("bias", new Parameter(c.clone()));
        }
    }

    public override bool HasState => _hasWeight || _hasBias;

    public override Tensor[] Run(Tensor?[] inputs)
    {
        Tensor a = Required(inputs, 0);
        using Tensor aa = _transA ? a.t() : a.alias();
        Tensor product;
        if (_hasWeight)
        {
            product = F.linear(aa, P("weight"));
        }
        else
        {
            Tensor b = Required(inputs, 1);
            using Tensor bb = _transB ? b.t() : b.alias();
            product = aa.matmul(bb);
        }

        if (_alpha != 1f)
        {
            using Tensor p = product;
            product = p.mul(_alpha);
        }

        Tensor? c = _hasBias ? P("bias") : (inputs.Length > 2 ? inputs[2] : null);
        if (c is null)
        {
            return [product];
        }

        using (product)
        {
            return [_beta == 1f ? product.add(c) : product.add(c, _beta)];
        }
    }

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        if (_hasWeight && _weightName is not null)
        {
            using Tensor w = _transB ? P("weight").detach().clone() : P("weight").detach().t().contiguous();
            initializers[_weightName] = ToProto(_weightName, w);
        }

        if (_hasBias && _biasName is not null)
        {
            initializers[_biasName] = ToProto(_biasName, P("bias"), _biasShape);
        }
    }
}

/// <summary>ONNX MatMul; a constant right-hand side becomes a trainable weight (a Linear layer's, exported as MatMul + Add).</summary>
internal sealed class MatMulNode : OnnxNode
{
    private readonly bool _hasWeight;
    private readonly string? _weightName;

    public MatMulNode(NodeContext context)
        : base(context)
    {
        if (context.Constant(1) is { } w)
        {
            _hasWeight = true;
            _weightName = context.Proto.Input[1];
            register_parameter("weight", new Parameter(w.clone()));
        }

        if (context.Constant(0) is not null)
        {
            throw context.Error(OnnxImportError.UnsupportedAttribute, "has a constant left-hand side; only a constant right-hand side (weights) is supported.");
        }
    }

    public override bool HasState => _hasWeight;

    public override Tensor[] Run(Tensor?[] inputs) =>
        [Required(inputs, 0).matmul(_hasWeight ? P("weight") : Required(inputs, 1))];

    public override void ExportInitializers(IDictionary<string, TensorProto> initializers)
    {
        if (_hasWeight && _weightName is not null)
        {
            initializers[_weightName] = ToProto(_weightName, P("weight"));
        }
    }
}
