using System.Reflection;
using System.Runtime.InteropServices;

namespace NerfGmn.Demo.Commands;

/// <summary>
/// The CLI's one error path: any exception becomes one unwrapped line on stderr, <c>error: &lt;problem&gt;</c> (the
/// library's messages name the file or row), and exit code 2 for bad input or 1 for an internal fault (with a line
/// asking to report it). Exceptions that ML.NET's cursors, the task library or reflection wrap are unwrapped to their
/// cause; libtorch messages are cut to their first line, before the C++ backtrace.
/// </summary>
public static class CliErrors
{
    public static int Guard(Func<int> run) => Guard(run, Console.Error);

    /// <param name="error">Where the line goes (stderr in the app; a writer in tests).</param>
    public static int Guard(Func<int> run, TextWriter error)
    {
        try
        {
            return run();
        }
        catch (Exception e)
        {
            var cause = Cause(e);
            bool input = IsInputError(cause);
            // Written straight to the stream: a console library would wrap it at the terminal's width.
            error.WriteLine($"error: {OneLine(cause.Message)}");
            if (!input) error.WriteLine($"(an internal fault, {cause.GetType().Name}: please report it with the command line that caused it; NERFGMN_TRACE=1 prints the stack)");
            if (Environment.GetEnvironmentVariable("NERFGMN_TRACE") == "1") error.WriteLine(e.ToString());
            return input ? 2 : 1;
        }
    }

    /// <summary>The innermost exception that says what went wrong.</summary>
    public static Exception Cause(Exception e)
    {
        while (true)
        {
            Exception? inner = e switch
            {
                AggregateException { InnerExceptions.Count: 1 } a => a.InnerExceptions[0],
                TargetInvocationException or TypeInitializationException => e.InnerException,
                // ML.NET's parallel cursors rethrow a row's error inside an InvalidOperationException.
                InvalidOperationException { InnerException: { } i } => i,
                _ => null,
            };
            if (inner is null) return e;
            e = inner;
        }
    }

    /// <summary>Errors about what the user gave (files, folders, options, data), as opposed to faults of ours.</summary>
    public static bool IsInputError(Exception e) => e is NerfFormatException or FileNotFoundException or DirectoryNotFoundException
        or ArgumentException or NotSupportedException or InvalidDataException or UnauthorizedAccessException or IOException
        or FormatException or System.Text.Json.JsonException;

    /// <summary>A message as one line: libtorch's backtrace ("Exception raised from …") and later lines dropped.</summary>
    public static string OneLine(string message)
    {
        int cut = message.IndexOf("Exception raised from", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        var lines = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "(no message)" : lines[0];
    }
}
