using Spectre.Console;

namespace NerfGmn.Demo.Commands;

/// <summary>Turns library errors about inputs into one red line and exit code 2, instead of a stack trace.</summary>
static class CliErrors
{
    public static int Guard(Func<int> run)
    {
        try
        {
            return run();
        }
        catch (Exception e) when (e is NerfFormatException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or NotSupportedException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
    }
}
