using System.CommandLine;
using NerfGmn.Demo.Commands;
using NerfGmn.Runtime;

// libtorch settings must be in place before anything touches torch.
TorchRuntime.EnsureInitialized();

var root = new RootCommand("nerfgmn — NeRF weights of any architecture → parameter graphs → GMN embeddings.\n" +
                           "Without a command it runs the demo (bundled mini dataset and encoder).");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(DescribeCommand.Create());
root.Subcommands.Add(GraphCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(RenderCommand.Create());
root.Subcommands.Add(DatasetCommand.Create());
root.Subcommands.Add(FitCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EmbedCommand.Create());
root.Subcommands.Add(ProbeDecoderCommand.Create());
root.Subcommands.Add(DecoderGateCommand.Create());
root.Subcommands.Add(FitDecoderCommand.Create());
root.Subcommands.Add(InvertDecoderCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(BenchCommand.CreateWorker());
root.SetAction(parse => DemoCommand.Run(DemoCommand.DefaultData(), DemoCommand.DefaultEncoder(), DemoCommand.DefaultOutput(), 25));

// Our own handler turns input errors into one line; System.CommandLine's would print a stack trace.
return CliErrors.Guard(() =>
{
    var parse = root.Parse(args);
    // System.CommandLine binds an unknown "--name" to a command's file arguments (embed --arch x … took "--arch" and
    // "x" as NeRF files): refuse it by name instead.
    if (parse.Tokens.FirstOrDefault(t => t.Type == System.CommandLine.Parsing.TokenType.Argument && t.Value.StartsWith("--") && t.Value.Length > 2) is { } unknown)
        throw new ArgumentException($"unknown option '{unknown.Value}' for '{parse.CommandResult.Command.Name}' (see --help)");
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
});
