using MedTransfer.Training.Backbones;
using MedTransfer.Training.Tests.Runtime;
using Onnx;
using static TorchSharp.torch;

namespace MedTransfer.Training.Tests.Backbones;

[Collection(TorchCollection.Name)]
public sealed class InputConventionTests
{
    [Fact]
    public void Preprocess_MapsUnitImagesOntoTheConvention_ForGreyAndRgbInputs()
    {
        var xrv = new InputConvention(3, -1024, 1024, [0], [2]);
        using var module = new ConventionPreprocess(xrv);
        using var scope = NewDisposeScope();
        Tensor grey = tensor(new float[] { 0f, 0.5f, 1f, 0.25f }, [1, 1, 2, 2]);
        float[] y = module.forward(grey).data<float>().ToArray();

        // (x·2048 − 1024) / 2 on every channel: grey is replicated.
        float[] expected = [-512f, 0f, 512f, -256f];
        Assert.Equal([.. expected, .. expected, .. expected], y);

        using var imagenet = new ConventionPreprocess(InputConvention.ImageNet);
        Tensor rgb = full(new long[] { 1, 3, 1, 1 }, 0.5f);
        float[] z = imagenet.forward(rgb).data<float>().ToArray();
        Assert.Equal((0.5 - 0.485) / 0.229, z[0], 5);
        Assert.Equal((0.5 - 0.406) / 0.225, z[2], 5);

        // A one-channel model fed RGB averages the channels; BGR reverses them.
        using var toGrey = new ConventionPreprocess(InputConvention.Plain(1));
        Assert.Equal(0.5f, toGrey.forward(tensor(new float[] { 0.2f, 0.5f, 0.8f }, [1, 3, 1, 1])).item<float>(), 5);
        using var bgr = new ConventionPreprocess(new InputConvention(3, 0, 255, [0], [1], Bgr: true));
        Assert.Equal([204f, 127.5f, 51f], bgr.forward(tensor(new float[] { 0.2f, 0.5f, 0.8f }, [1, 3, 1, 1])).data<float>().ToArray());
    }

    [Fact]
    public void FromMetadata_ReadsOurKeyAndTheOnnxImageKeys_AndRejectsNonsense()
    {
        InputConvention? ours = InputConvention.FromMetadata(new Dictionary<string, string> { [InputConvention.MetadataKey] = "{\"channels\":1,\"range\":[-1024,1024],\"mean\":[0],\"std\":[1]}" }, 3);
        Assert.Equal(1, ours!.Channels);
        Assert.Equal(-1024, ours.RangeMin);

        InputConvention? onnx = InputConvention.FromMetadata(new Dictionary<string, string> { ["image.bitmappixelformat"] = "Bgr8", ["Image.NominalPixelRange"] = "Normalized_1_1" }, 3);
        Assert.True(onnx!.Bgr);
        Assert.Equal((-1.0, 1.0), (onnx.RangeMin, onnx.RangeMax));

        Assert.Null(InputConvention.FromMetadata(new Dictionary<string, string>(), 3));
        var ex = Assert.Throws<ArgumentException>(() => InputConvention.FromMetadata(new Dictionary<string, string> { [InputConvention.MetadataKey] = "{\"channels\":2}" }, 3));
        Assert.Contains("channels", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_TakesTheConventionFromOptionsThenMetadataThenTheImageNetDefault()
    {
        ModelProto model = TestGraphs.MobileDenseNet();
        using (Backbone plain = ImportedBackbones.MobileDenseNet(model: model))
        {
            Assert.Equal("default", plain.Imported!.InputSource);
            Assert.Same(InputConvention.ImageNet, plain.Imported.Input);
        }

        model.MetadataProps.Add(new StringStringEntryProto { Key = InputConvention.MetadataKey, Value = new InputConvention(3, 0, 255, [120], [60]).ToJson() });
        using (Backbone declared = ImportedBackbones.MobileDenseNet(model: model))
        {
            Assert.Equal("metadata", declared.Imported!.InputSource);
            Assert.Equal(255, declared.Imported.Input.RangeMax);
        }

        using (Backbone given = ImportedBackbones.MobileDenseNet(InputConvention.Plain(3), model))
        {
            Assert.Equal("options", given.Imported!.InputSource);
        }

        Assert.Throws<ArgumentException>(() => ImportedBackbones.MobileDenseNet(InputConvention.Plain(1), model));
    }
}
