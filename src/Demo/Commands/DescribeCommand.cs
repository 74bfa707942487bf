using System.CommandLine;
using NerfGmn.Architectures;
using NerfGmn.Fields;
using NerfGmn.Graphs;
using NerfGmn.IO;
using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary><c>nerfgmn describe &lt;weights&gt;</c>: descriptor, parameters, graph size, field at the origin.</summary>
static class DescribeCommand
{
    public static Command Create()
    {
        var input = new WeightsInput();
        var json = new Option<bool>("--json") { Description = "print the architecture descriptor as JSON" };
        var cmd = input.AddTo(new Command("describe", "Show a NeRF's architecture, parameter count, graph size and field at the origin") { json });
        cmd.SetAction(p =>
        {
            var w = input.Read(p);
            if (p.GetValue(json))
            {
                Console.WriteLine(w.Architecture.ToJson());
                return 0;
            }
            var graph = ParameterGraphBuilder.Build(w);
            var table = new Table().AddColumns("property", "value").Border(TableBorder.Rounded);
            foreach (var (k, v) in Describe(w, graph)) table.AddRow(Markup.Escape(k), Markup.Escape(v));
            AnsiConsole.Write(table);
            return 0;
        });
        return cmd;
    }

    public static IEnumerable<(string, string)> Describe(NerfWeights w, ParameterGraph graph)
    {
        var a = w.Architecture;
        yield return ("architecture", a.Name);
        yield return ("family", a.Family);
        yield return ("encoding", a.Encoding.Type == EncodingType.Frequency ? $"frequency, F={a.Encoding.NFrequencies} → {a.EncodingOutputDims}" : a.Encoding.Type);
        if (a.Triplane is { } t) yield return ("tri-plane", $"(3, {t.Resolution}, {t.Resolution}, {t.Channels}), summed");
        if (a.Hash is { } h) yield return ("hash grid", $"L={h.Levels}, F={h.Features}, T=2^{h.Log2Table}, res {h.BaseResolution}→{h.MaxResolution}");
        yield return ("MLP", string.Join("→", new[] { a.Layers()[0].In }.Concat(a.Layers().Select(l => l.Out))) + $" ({a.Activation}{(a.Bias ? ", bias" : ", no bias")})");
        yield return ("parameters", w.ParameterCount.ToString("N0"));
        yield return ("graph", $"{graph.NodeCount:N0} nodes, {graph.EdgeCount:N0} edges");
        if (a.Encoding.Type is EncodingType.Frequency or EncodingType.Hash)
        {
            using var field = new RadianceField(w);
            var (rgb, sigma) = field.Evaluate([0f, 0f, 0f]);
            yield return ("field at (0,0,0)", $"rgb ({rgb[0]:F4}, {rgb[1]:F4}, {rgb[2]:F4}), σ {sigma[0]:G5}");
        }
    }
}
