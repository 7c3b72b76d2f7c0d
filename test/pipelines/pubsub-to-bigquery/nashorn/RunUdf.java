import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import javax.script.Invocable;
import javax.script.ScriptEngine;
import org.openjdk.nashorn.api.scripting.NashornScriptEngineFactory;
import org.openjdk.nashorn.api.scripting.ScriptObjectMirror;

/**
 * Runs a UDF file the way the template's JavascriptTextTransformer does: a Nashorn engine in ES6 mode, the file
 * evaluated, the function invoked with each payload as a Java String; a null or undefined result means "filtered",
 * a String is the output, anything else is the error the template raises.
 *
 * Usage: java -cp <nashorn classpath> RunUdf.java <udf.js> <function> <payloads file: one base64 payload a line>
 * Prints one line per payload: NULL, S:<base64 of the returned string>, or ERROR:<message>.
 */
public class RunUdf {
  public static void main(String[] args) throws Exception {
    ScriptEngine engine = new NashornScriptEngineFactory().getScriptEngine("--language=es6");
    engine.eval(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
    Invocable invocable = (Invocable) engine;
    List<String> lines = Files.readAllLines(Path.of(args[2]), StandardCharsets.UTF_8);
    for (String line : lines) {
      String payload = new String(Base64.getDecoder().decode(line), StandardCharsets.UTF_8);
      try {
        Object result = invocable.invokeFunction(args[1], payload);
        if (result == null || ScriptObjectMirror.isUndefined(result)) {
          System.out.println("NULL");
        } else if (result instanceof String) {
          System.out.println("S:" + Base64.getEncoder().encodeToString(((String) result).getBytes(StandardCharsets.UTF_8)));
        } else {
          System.out.println("ERROR:UDF Function did not return a String. Instead got: " + result.getClass().getName());
        }
      } catch (Exception e) {
        System.out.println("ERROR:" + e.getMessage());
      }
    }
  }
}
